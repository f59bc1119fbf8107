package dev.itemsim.catalog;

/**
 * Why a row of a user-history table was not used, or why a user got no profile; the value written to the
 * match job's rejected table. Row reasons are tried in the enum's order, so a row gets exactly one; a user
 * without a profile gets the first user reason that applies.
 */
public enum HistoryRejectReason {
  /** A CSV record that could not be parsed into the header's columns. */
  MALFORMED_ROW("malformed_row", false),
  /** The user id is null or blank. */
  MISSING_USER_ID("missing_user_id", false),
  /** The item id is null or blank. */
  MISSING_ITEM_ID("missing_item_id", false),
  /** The event type is not one of {@code match.users.eventWeights}. */
  UNKNOWN_EVENT("unknown_event", false),
  /** The event time is null or cannot be read as a timestamp, a date, ISO-8601 text or epoch seconds. */
  BAD_TIME("bad_time", false),
  /** The item is not among the catalogue's encoded items (unknown, or rejected from the catalogue). */
  UNKNOWN_ITEM("unknown_item", false),
  /** User: every row of theirs was rejected. */
  NO_VALID_EVENTS("no_valid_events", true),
  /** User: every valid event is older than {@code match.users.maxAgeDays}. */
  NO_RECENT_EVENTS("no_recent_events", true),
  /** User: their recent events all have weight 0 (they only exclude items). */
  NO_WEIGHTED_EVENTS("no_weighted_events", true),
  /** User: their weighted items' vectors cancel out (or are all zero), so the profile has no direction. */
  ZERO_PROFILE("zero_profile", true);

  private final String code;
  private final boolean user;

  HistoryRejectReason(String code, boolean user) {
    this.code = code;
    this.user = user;
  }

  public String code() {
    return code;
  }

  /** Whether the reason is about a user (one row per user) rather than one history row. */
  public boolean aboutUser() {
    return user;
  }
}
