package dev.itemsim.job;

import dev.itemsim.catalog.TextTemplate;
import dev.itemsim.embed.EncoderSettings;
import java.util.Map;

/**
 * How a catalogue becomes encoded items, the same for every job: its id and title columns
 * ({@code input.idColumn}, {@code input.titleColumn}), the text template ({@code text.*}), the encoder and its
 * stage ({@code encoder.*}), the reject limit ({@code validation.maxRejectedFraction}) and the columns carried
 * along for the neighbour filters.
 *
 * @param csvMaxRecordLines physical lines one CSV record may span ({@code input.csvMaxRecordLines})
 * @param carried source column → the dataset column it is carried as ({@link #ATTR_PREFIX}{@code k}), in
 *     order
 */
public record CorpusSettings(String idColumn, String titleColumn, int csvMaxRecordLines, TextTemplate template,
    EncoderSettings encoder, int encodePartitions, int sortWindow, double maxRejectedFraction,
    Map<String, String> carried) {
  /** Carried columns are named {@code attr_0, attr_1, ...} so they never collide with item columns. */
  public static final String ATTR_PREFIX = "attr_";
}
