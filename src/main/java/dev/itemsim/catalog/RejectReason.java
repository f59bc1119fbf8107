package dev.itemsim.catalog;

/** Why a catalogue row was not encoded; the value written to {@code rejected.reason}. */
public enum RejectReason {
  /**
   * A CSV record that could not be parsed into the header's columns (wrong field count, invalid UTF-8), or
   * the first line of a quoted field that was never closed.
   */
  MALFORMED_ROW("malformed_row"),
  /** The id column is null. */
  NULL_ID("null_id"),
  /** The id is empty or only whitespace. */
  BLANK_ID("blank_id"),
  /** Another row has the same id; every copy is rejected, since none can be told to be the right one. */
  DUPLICATE_ID("duplicate_id"),
  /** The template rendered to nothing: every field it reads is empty. */
  BLANK_TEXT("blank_text");

  private final String code;

  RejectReason(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }
}
