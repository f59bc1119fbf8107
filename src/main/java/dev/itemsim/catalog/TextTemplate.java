package dev.itemsim.catalog;

import dev.itemsim.InvalidInputException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An item-text template such as {@code "{title} | {brand} | {category}"}.
 *
 * <p>Rendering: each field value has its whitespace runs (newlines, tabs, NBSP, ...) collapsed to one space,
 * is trimmed and cut to {@code maxFieldChars}; a field that ends up empty is dropped together with the
 * literal text just before it (the first kept field takes the template's prefix instead). A template whose
 * fields are all empty renders to the empty string.
 */
public final class TextTemplate implements Serializable {
  private static final Pattern FIELD = Pattern.compile("\\{([^{}]*)}");
  private static final Pattern WHITESPACE = Pattern.compile("[\\s\\u00A0\\u2007\\u202F\\u200B\\uFEFF]+");

  private final String source;
  private final List<String> fields;
  private final List<String> literals;
  private final int maxFieldChars;

  private TextTemplate(String source, List<String> fields, List<String> literals, int maxFieldChars) {
    this.source = source;
    this.fields = fields;
    this.literals = literals;
    this.maxFieldChars = maxFieldChars;
  }

  public static TextTemplate parse(String template, int maxFieldChars) {
    return parse("text.template", template, maxFieldChars);
  }

  /** As {@link #parse(String, int)}; its errors name {@code key}, the template's configuration key. */
  public static TextTemplate parse(String key, String template, int maxFieldChars) {
    if (maxFieldChars < 1) {
      throw new InvalidInputException("text.maxFieldChars must be >= 1, got " + maxFieldChars);
    }
    List<String> fields = new ArrayList<>();
    List<String> literals = new ArrayList<>();
    Matcher m = FIELD.matcher(template);
    int last = 0;
    while (m.find()) {
      String name = m.group(1).trim();
      if (name.isEmpty()) {
        throw new InvalidInputException(key + " '" + template + "' has an empty field {}");
      }
      literals.add(template.substring(last, m.start()));
      fields.add(name);
      last = m.end();
    }
    literals.add(template.substring(last));
    if (fields.isEmpty()) {
      throw new InvalidInputException(key + " '" + template + "' names no field; write e.g. \"{title}\"");
    }
    for (String literal : literals) {
      if (literal.indexOf('{') >= 0 || literal.indexOf('}') >= 0) {
        throw new InvalidInputException(key + " '" + template + "' has an unbalanced brace");
      }
    }
    return new TextTemplate(template, List.copyOf(fields), List.copyOf(literals), maxFieldChars);
  }

  /** Column names the template reads, in order (a name may repeat). */
  public List<String> fields() {
    return fields;
  }

  /** Renders with {@code values.get(i)} (may be null) for field {@code i}. */
  public String render(List<String> values) {
    StringBuilder sb = new StringBuilder();
    boolean any = false;
    for (int i = 0; i < fields.size(); i++) {
      String value = clean(values.get(i));
      if (value.isEmpty()) {
        continue;
      }
      sb.append(any ? literals.get(i) : literals.get(0)).append(value);
      any = true;
    }
    if (!any) {
      return "";
    }
    sb.append(literals.get(literals.size() - 1));
    return WHITESPACE.matcher(sb).replaceAll(" ").trim();
  }

  String clean(String value) {
    if (value == null) {
      return "";
    }
    String v = WHITESPACE.matcher(value).replaceAll(" ").trim();
    if (v.length() <= maxFieldChars) {
      return v;
    }
    int cut = maxFieldChars;
    if (Character.isLowSurrogate(v.charAt(cut))) {
      cut--;
    }
    int space = v.lastIndexOf(' ', cut);
    if (space > maxFieldChars * 4 / 5) {
      cut = space;
    }
    return v.substring(0, cut).trim();
  }

  @Override
  public String toString() {
    return source;
  }
}
