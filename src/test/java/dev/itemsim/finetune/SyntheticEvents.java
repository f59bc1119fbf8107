package dev.itemsim.finetune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The synthetic co-engagement sample shipped in {@code sample-data/events/} (over the Buy products of
 * {@code sample-data/abt-buy/products_b.csv}): users browse sessions of random items (any item, planted ones
 * included), and in half of their
 * sessions also engage with both items of one of {@value #PLANTED} planted pairs. Sessions of a user are hours
 * apart, events within one minutes apart. A few broken rows (unreadable time, no user, unknown item) exercise
 * the rejection counts. Deterministic for a seed.
 */
final class SyntheticEvents {
  static final int PLANTED = 30;
  static final int USERS = 600;
  static final long START = 1_767_225_600L;  // 2026-01-01T00:00:00Z
  static final String[] EVENTS = {"view", "view", "view", "cart", "purchase"};
  /** Broken rows appended at the end: two unreadable times, one missing user, two unknown items. */
  static final List<String> BROKEN = List.of("u9001,%s,yesterday,view", "u9002,%s,,view", ",%s,1767300000,view",
      "u9003,no-such-item-1,1767300000,view", "u9003,no-such-item-2,1767300060,view");

  record Sample(List<String> lines, List<String[]> planted) {}

  private SyntheticEvents() {}

  static Sample generate(List<String> itemIds, long seed) {
    Random random = new Random(seed);
    List<String> ids = new ArrayList<>(itemIds);
    Collections.sort(ids);
    List<String> shuffled = new ArrayList<>(ids);
    Collections.shuffle(shuffled, random);
    List<String[]> planted = new ArrayList<>();
    for (int i = 0; i < PLANTED; i++) {
      String a = shuffled.get(2 * i);
      String b = shuffled.get(2 * i + 1);
      planted.add(a.compareTo(b) < 0 ? new String[] {a, b} : new String[] {b, a});
    }
    List<String> background = ids;
    List<String> lines = new ArrayList<>(List.of("user_id,item_id,ts,event"));
    for (int u = 0; u < USERS; u++) {
      String user = "u" + (1000 + u);
      long t = START + random.nextInt(7 * 24 * 3600);
      int sessions = 1 + random.nextInt(3);
      for (int s = 0; s < sessions; s++) {
        Set<String> items = new LinkedHashSet<>();
        int browsed = 2 + random.nextInt(5);
        while (items.size() < browsed) {
          items.add(background.get(random.nextInt(background.size())));
        }
        List<String> session = new ArrayList<>(items);
        if (random.nextBoolean()) {
          String[] pair = planted.get(random.nextInt(PLANTED));
          session.add(random.nextInt(session.size() + 1), pair[0]);
          session.add(random.nextInt(session.size() + 1), pair[1]);
        }
        for (String item : session) {
          lines.add(user + "," + item + "," + t + "," + EVENTS[random.nextInt(EVENTS.length)]);
          t += 30 + random.nextInt(300);
        }
        t += 3 * 3600 + random.nextInt(48 * 3600);
      }
    }
    for (String broken : BROKEN) {
      lines.add(broken.contains("%s") ? String.format(broken, ids.get(0)) : broken);
    }
    return new Sample(lines, planted);
  }
}
