package dev.itemsim.catalog;

/**
 * The configuration keys behind one catalogue's location and columns, which its errors name: what the user
 * has to change when a path cannot be read or a column is missing.
 *
 * @param path the key of its location
 * @param idColumn the key naming its id column
 * @param titleColumn the key naming its title column
 * @param template the key of its text template
 */
public record CatalogKeys(String path, String idColumn, String titleColumn, String template) {
  /** The similar-items catalogue: {@code input.*} and {@code text.template}. */
  public static final CatalogKeys INPUT =
      new CatalogKeys("input.path", "input.idColumn", "input.titleColumn", "text.template");
}
