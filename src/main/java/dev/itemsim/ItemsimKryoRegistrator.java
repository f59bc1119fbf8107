package dev.itemsim;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.factories.ReflectionSerializerFactory;
import com.esotericsoftware.kryo.factories.SerializerFactory;
import com.esotericsoftware.kryo.serializers.FieldSerializer;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Lets itemsim run under {@code spark.serializer = org.apache.spark.serializer.KryoSerializer}: itemsim's own
 * objects (task results, broadcast values, shuffled and cached records, most of them Java records) travel by
 * Java serialization inside Kryo, exactly as they do under Spark's default serializer; every other class keeps
 * Kryo's own handling. Spark's Kryo cannot write a Java record by itself (it sets fields, and a record's fields
 * cannot be set), so without this registrator every itemsim job fails on its first task under Kryo.
 *
 * <p>itemsim's jobs install it themselves ({@link #install}). A Spark application calling itemsim's API with
 * Kryo sets {@code spark.kryo.registrator = dev.itemsim.ItemsimKryoRegistrator} (comma-separated after its own
 * registrators); the API checks this before it starts ({@link #requireUsable}).
 */
public final class ItemsimKryoRegistrator implements KryoRegistrator {
  public static final String SERIALIZER_KEY = "spark.serializer";
  public static final String REGISTRATORS_KEY = "spark.kryo.registrator";
  public static final String REGISTRATION_REQUIRED_KEY = "spark.kryo.registrationRequired";
  private static final String KRYO = "org.apache.spark.serializer.KryoSerializer";
  private static final String OWN_PACKAGE = "dev.itemsim.";

  @Override
  public void registerClasses(Kryo kryo) {
    kryo.setDefaultSerializer(new OwnClassesByJava());
  }

  /**
   * Kryo's fallback for a class no registration or default serializer claims: Java serialization for itemsim's
   * classes, Kryo's usual {@link FieldSerializer} for the rest.
   */
  private static final class OwnClassesByJava implements SerializerFactory {
    private final SerializerFactory fields = new ReflectionSerializerFactory(FieldSerializer.class);

    @Override
    public Serializer<?> makeSerializer(Kryo kryo, Class<?> type) {
      return type.getName().startsWith(OWN_PACKAGE) ? new JavaSerializer() : fields.makeSerializer(kryo, type);
    }
  }

  /** {@code conf} with this registrator added after any registrator it already lists (once). */
  public static SparkConf install(SparkConf conf) {
    List<String> registrators = registrators(conf);
    if (!registrators.contains(ItemsimKryoRegistrator.class.getName())) {
      registrators.add(ItemsimKryoRegistrator.class.getName());
      conf.set(REGISTRATORS_KEY, String.join(",", registrators));
    }
    return conf;
  }

  /**
   * Fails with a message naming the setting to change when {@code conf} (a running session's) serializes with
   * Kryo without this registrator, or with Kryo requiring every class to be registered.
   */
  public static void requireUsable(SparkConf conf) {
    if (!KRYO.equals(conf.get(SERIALIZER_KEY, "").trim())) {
      return;
    }
    if (conf.getBoolean(REGISTRATION_REQUIRED_KEY, false)) {
      throw new InvalidInputException(REGISTRATION_REQUIRED_KEY + " = true: itemsim's classes are not registered "
          + "with Kryo one by one (" + ItemsimKryoRegistrator.class.getName() + " hands them to Java "
          + "serialization); set it to false");
    }
    if (!registrators(conf).contains(ItemsimKryoRegistrator.class.getName())) {
      String listed = conf.get(REGISTRATORS_KEY, "").trim();
      throw new InvalidInputException(SERIALIZER_KEY + " is " + KRYO + ", which cannot write itemsim's objects "
          + "by itself: start the session with " + REGISTRATORS_KEY + " = "
          + (listed.isEmpty() ? "" : listed + ",") + ItemsimKryoRegistrator.class.getName()
          + " (or leave " + SERIALIZER_KEY + " at its default)");
    }
  }

  private static List<String> registrators(SparkConf conf) {
    List<String> out = new ArrayList<>();
    Arrays.stream(conf.get(REGISTRATORS_KEY, "").split(",")).map(String::trim).filter(s -> !s.isEmpty())
        .forEach(out::add);
    return out;
  }
}
