package dev.itemsim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.itemsim.similarity.IvfSearch;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import scala.Tuple2;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

class ItemsimKryoRegistratorTest {
  private static final String KRYO = KryoSerializer.class.getName();
  private static final ClassTag<Object> ANY = ClassTag$.MODULE$.apply(Object.class);

  /** A record of itemsim's as its jobs ship them: in a Scala tuple, in a list, with arrays. */
  record Membership(String id, float[] vector, int[] lists) implements Serializable {}

  private static SerializerInstance kryo(boolean registered) {
    SparkConf conf = new SparkConf(false).set(ItemsimKryoRegistrator.SERIALIZER_KEY, KRYO);
    if (registered) {
      ItemsimKryoRegistrator.install(conf);
    }
    return new KryoSerializer(conf).newInstance();
  }

  private static Object roundTrip(SerializerInstance serializer, Object value) {
    ByteBuffer bytes = serializer.serialize(value, ANY);
    return serializer.deserialize(bytes, ANY);
  }

  @Test
  void itemsimsRecordsTravelThroughKryoWithTheRegistrator() {
    List<Object> shipped = new ArrayList<>(List.of(new Membership("a", new float[] {0.6f, 0.8f}, new int[] {3, 7}),
        IvfSearch.Options.defaults().withNprobe(4)));
    Tuple2<Integer, List<Object>> value = new Tuple2<>(12, shipped);

    @SuppressWarnings("unchecked")
    Tuple2<Integer, List<Object>> back = (Tuple2<Integer, List<Object>>) roundTrip(kryo(true), value);

    assertThat(back._1()).isEqualTo(12);
    Membership m = (Membership) back._2().get(0);
    assertThat(m.id()).isEqualTo("a");
    assertThat(m.vector()).containsExactly(0.6f, 0.8f);
    assertThat(m.lists()).containsExactly(3, 7);
    assertThat(back._2().get(1)).isEqualTo(IvfSearch.Options.defaults().withNprobe(4));
  }

  @Test
  void withoutTheRegistratorKryoCannotWriteARecord() {
    SerializerInstance plain = kryo(false);
    Membership m = new Membership("a", new float[] {1f}, new int[] {0});

    assertThatThrownBy(() -> roundTrip(plain, m)).hasStackTraceContaining("record");
  }

  @Test
  void installingAddsTheRegistratorOnceAfterTheOnesListed() {
    SparkConf conf = new SparkConf(false).set(ItemsimKryoRegistrator.REGISTRATORS_KEY, "com.example.Registrator");

    ItemsimKryoRegistrator.install(ItemsimKryoRegistrator.install(conf));

    assertThat(conf.get(ItemsimKryoRegistrator.REGISTRATORS_KEY))
        .isEqualTo("com.example.Registrator," + ItemsimKryoRegistrator.class.getName());
  }

  @Test
  void aKryoSessionWithoutTheRegistratorIsRefusedNamingTheSettingToAdd() {
    SparkConf conf = new SparkConf(false).set(ItemsimKryoRegistrator.SERIALIZER_KEY, KRYO)
        .set(ItemsimKryoRegistrator.REGISTRATORS_KEY, "com.example.Registrator");

    assertThatThrownBy(() -> ItemsimKryoRegistrator.requireUsable(conf)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("spark.kryo.registrator = com.example.Registrator,dev.itemsim.ItemsimKryoRegistrator");
    ItemsimKryoRegistrator.requireUsable(ItemsimKryoRegistrator.install(conf));
    ItemsimKryoRegistrator.requireUsable(new SparkConf(false));  // Spark's default serializer needs nothing
  }

  @Test
  void kryoRequiringEveryClassRegisteredIsRefused() {
    SparkConf conf = ItemsimKryoRegistrator.install(new SparkConf(false)
        .set(ItemsimKryoRegistrator.SERIALIZER_KEY, KRYO)
        .set(ItemsimKryoRegistrator.REGISTRATION_REQUIRED_KEY, "true"));

    assertThatThrownBy(() -> ItemsimKryoRegistrator.requireUsable(conf)).isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith("spark.kryo.registrationRequired = true");
  }
}
