package dev.itemsim.finetune;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Packs training examples into batches for the in-batch-negatives loss, so that no batch ever asks the model to
 * push an item away from a true partner: within a batch, no item appears twice, and no positive or negative of
 * one example is related ({@link TrainingPairs#relatedTo}) to the anchor of another. Examples are taken in
 * order; each goes to the first open batch it fits, and a batch is closed when full. Deterministic.
 */
final class Batches {
  /** One training example: anchor, positive, and a hard negative or null. */
  record Example(String anchor, String positive, String negative) {}

  private Batches() {}

  private static final class Open {
    final List<Example> examples = new ArrayList<>();
    final Set<String> items = new HashSet<>();
    final Set<String> candidates = new HashSet<>();
    final Set<String> forbidden = new HashSet<>();

    boolean accepts(Example e, Function<String, Set<String>> related) {
      if (items.contains(e.anchor()) || items.contains(e.positive())
          || e.negative() != null && items.contains(e.negative())) {
        return false;
      }
      if (forbidden.contains(e.positive()) || e.negative() != null && forbidden.contains(e.negative())) {
        return false;
      }
      Set<String> mine = related.apply(e.anchor());
      Set<String> smaller = mine.size() < candidates.size() ? mine : candidates;
      Set<String> larger = smaller == mine ? candidates : mine;
      for (String s : smaller) {
        if (larger.contains(s)) {
          return false;
        }
      }
      return true;
    }

    void add(Example e, Function<String, Set<String>> related) {
      examples.add(e);
      items.add(e.anchor());
      items.add(e.positive());
      candidates.add(e.positive());
      if (e.negative() != null) {
        items.add(e.negative());
        candidates.add(e.negative());
      }
      forbidden.addAll(related.apply(e.anchor()));
    }
  }

  /** The batches, full ones in the order they filled up, then the partial ones. */
  static List<List<Example>> pack(List<Example> examples, int batchSize, Function<String, Set<String>> related) {
    List<List<Example>> out = new ArrayList<>();
    List<Open> open = new ArrayList<>();
    for (Example e : examples) {
      Open target = null;
      for (Open o : open) {
        if (o.accepts(e, related)) {
          target = o;
          break;
        }
      }
      if (target == null) {
        target = new Open();
        open.add(target);
      }
      target.add(e, related);
      if (target.examples.size() == batchSize) {
        out.add(List.copyOf(target.examples));
        open.remove(target);
      }
    }
    open.forEach(o -> out.add(List.copyOf(o.examples)));
    return out;
  }
}
