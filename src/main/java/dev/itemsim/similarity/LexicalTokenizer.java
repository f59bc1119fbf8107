package dev.itemsim.similarity;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Tokens for lexical matching of product texts, built so that model numbers decide matches:
 * <ul>
 *   <li>text is lower-cased and split on whitespace and punctuation other than {@code - / .} inside words;
 *   <li>a word mixing letters and digits (a model number such as {@code DSC-W120}, {@code PS-LX350H},
 *       {@code 32GB}) is kept whole with its inner punctuation removed ({@code dscw120}), so spellings with
 *       and without dashes meet, and is also split into its alphanumeric parts ({@code dsc}, {@code w120});
 *   <li>other words are split at inner punctuation ({@code 10/100} → {@code 10}, {@code 100}).
 * </ul>
 * Character n-grams of the same words ({@link #charNgrams}) catch the remaining spelling variants.
 */
public final class LexicalTokenizer implements Serializable {
  private LexicalTokenizer() {}

  public static List<String> words(String text) {
    List<String> out = new ArrayList<>();
    for (String raw : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}\\-/.]+")) {
      String word = trimPunctuation(raw);
      if (word.isEmpty()) {
        continue;
      }
      String[] parts = word.split("[\\-/.]+");
      boolean model = hasLetter(word) && hasDigit(word);
      if (model) {
        out.add(word.replaceAll("[\\-/.]", ""));
        if (parts.length > 1) {
          for (String p : parts) {
            if (!p.isEmpty()) {
              out.add(p);
            }
          }
        }
      } else {
        for (String p : parts) {
          if (!p.isEmpty()) {
            out.add(p);
          }
        }
      }
    }
    return out;
  }

  /** The model-number-like words of {@code words} (letters and digits mixed, 4 characters or more). */
  public static List<String> modelNumbers(List<String> words) {
    List<String> out = new ArrayList<>();
    for (String w : words) {
      if (w.length() >= 4 && hasLetter(w) && hasDigit(w)) {
        out.add(w);
      }
    }
    return out;
  }

  /** Character {@code n}-grams of each word with {@code #} marking word boundaries ({@code #so}, {@code ony#}). */
  public static List<String> charNgrams(List<String> words, int n) {
    List<String> out = new ArrayList<>();
    for (String w : words) {
      String padded = "#" + w + "#";
      if (padded.length() <= n) {
        out.add(padded);
        continue;
      }
      for (int i = 0; i + n <= padded.length(); i++) {
        out.add(padded.substring(i, i + n));
      }
    }
    return out;
  }

  private static String trimPunctuation(String s) {
    int from = 0;
    int to = s.length();
    while (from < to && "-/.".indexOf(s.charAt(from)) >= 0) {
      from++;
    }
    while (to > from && "-/.".indexOf(s.charAt(to - 1)) >= 0) {
      to--;
    }
    return s.substring(from, to);
  }

  private static boolean hasLetter(String s) {
    return s.chars().anyMatch(Character::isLetter);
  }

  private static boolean hasDigit(String s) {
    return s.chars().anyMatch(Character::isDigit);
  }
}
