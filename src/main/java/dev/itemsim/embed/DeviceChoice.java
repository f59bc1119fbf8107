package dev.itemsim.embed;

/** {@code encoder.device}: where the model runs, through DJL's {@code Device} API. */
public enum DeviceChoice {
  /** The first GPU when DJL's PyTorch engine sees one, else the CPU. */
  AUTO,
  CPU,
  /** The first GPU; fails clearly when DJL sees none. */
  GPU;

  public static DeviceChoice parse(String value) {
    return Choices.parse(DeviceChoice.class, "encoder.device", value);
  }
}
