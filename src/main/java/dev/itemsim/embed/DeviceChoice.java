package dev.itemsim.embed;

import dev.itemsim.InvalidInputException;
import java.util.Locale;

/** {@code encoder.device}: where the model runs, through DJL's {@code Device} API. */
public enum DeviceChoice {
  /** The first GPU when DJL's PyTorch engine sees one, else the CPU. */
  AUTO,
  CPU,
  /** The first GPU; fails clearly when DJL sees none. */
  GPU;

  public static DeviceChoice parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("encoder.device = '" + value + "': use auto, cpu or gpu");
    }
  }
}
