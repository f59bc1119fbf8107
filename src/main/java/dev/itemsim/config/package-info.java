/**
 * HOCON configuration: layering (defaults &lt; profile &lt; job spec &lt; {@code --set}), rejection of
 * unknown keys with the nearest valid key suggested, and typed access that names the key on every error.
 */
package dev.itemsim.config;
