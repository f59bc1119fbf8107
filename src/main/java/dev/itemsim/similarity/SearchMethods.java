package dev.itemsim.similarity;

import dev.itemsim.InvalidInputException;
import dev.itemsim.config.TypedConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Every {@link SearchMethod} by name: the one place {@code similarity.method} is resolved. */
public final class SearchMethods {
  /** The key naming the method. */
  public static final String KEY = "similarity.method";

  /**
   * Catalogue size from which {@code auto} searches approximately in one catalogue; against another, from this
   * many queries or corpus items, or from as many vector pairs (queries × corpus items) as exact search
   * multiplies in one catalogue of this size ({@link SearchMethod.Auto}). Below it exact top-N costs about what IVF's fixed costs do (sampling and
   * k-means training, a shuffle of the vectors, the recall check), and its lists are exact and can be updated
   * incrementally; from it IVF is clearly faster, by a factor that grows with n ({@code scripts/bench-scale
   * --only crossover} and {@code --only against}; the figures are in docs/BENCHMARKS.md).
   */
  public static final long AUTO_EXACT_BELOW = 100_000;

  /** The keys {@link #from} reads. */
  public static final List<String> KEYS = keys();

  private static final Set<String> NAMES = Set.of(SearchMethod.Exact.NAME, IvfSearch.NAME, SearchMethod.Auto.NAME);

  private SearchMethods() {}

  /** The method {@code similarity.method} names, its options read and validated. */
  public static SearchMethod from(TypedConfig c) {
    String name = c.string(KEY).trim();
    return switch (name) {
      case SearchMethod.Exact.NAME -> new SearchMethod.Exact();
      case IvfSearch.NAME -> new IvfSearch(IvfSearch.Options.from(c));
      case SearchMethod.Auto.NAME -> new SearchMethod.Auto(new IvfSearch(IvfSearch.Options.from(c)), AUTO_EXACT_BELOW);
      default -> throw new InvalidInputException(KEY + " = '" + name + "' is not one of exact, ivf, auto");
    };
  }

  public static Set<String> names() {
    return NAMES;
  }

  private static List<String> keys() {
    List<String> keys = new ArrayList<>(List.of(KEY));
    keys.addAll(IvfSearch.Options.KEYS);
    return List.copyOf(keys);
  }
}
