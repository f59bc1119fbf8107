#!/usr/bin/env bash
# Sourced by scripts/itemsim and scripts/local-cluster: a Spark installation for machines without SPARK_HOME.
#
# ensure_spark_home sets ITEMSIM_SPARK_HOME to target/spark-home, assembled once from Maven Central:
#   RELEASE          marks it as a binary distribution (Spark's launcher then takes the jars from jars/)
#   jars/            links to the jars of spark-sql and spark-mllib for Scala 2.13 and all their dependencies
#                    (scripts/spark-distribution/pom.xml, at the project's spark.version), nothing of itemsim
#   conf/log4j2.properties   the project's conf/log4j2.properties: Spark at WARN, itemsim at INFO
# It is rebuilt when pom.xml, the distribution pom or conf/log4j2.properties is newer than it.
#
# spark_class CLASS ARGS... runs a Spark entry point the way $SPARK_HOME/bin/spark-class does: Spark's launcher
# library (org.apache.spark.launcher.Main) prints the java command line, which is then executed.

itemsim_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The JVM options spark-submit gives every Spark JVM on Java 17+ (Spark 4.2's
# org.apache.spark.launcher.JavaModuleOptions; SparkModuleOptionsTest keeps the two lists equal). A JVM that embeds
# Spark itself (scripts/itemsim run) needs them as much: Kryo, for one, fails without --add-opens java.nio.
# shellcheck disable=SC2034
spark_module_options="-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector \
--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED \
--add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true \
-Dio.netty.allocator.type=pooled -Dio.netty.handler.ssl.defaultEndpointVerificationAlgorithm=NONE \
--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"

_strip_colour() {
  sed 's/\x1b\[[0-9;]*m//g'
}

ensure_spark_home() {
  local home="$itemsim_root/target/spark-home"
  local stamp="$home/RELEASE"
  if [[ ! -f "$stamp" || "$itemsim_root/pom.xml" -nt "$stamp" \
      || "$itemsim_root/scripts/spark-distribution/pom.xml" -nt "$stamp" \
      || "$itemsim_root/conf/log4j2.properties" -nt "$stamp" ]]; then
    local version
    version="$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' "$itemsim_root/pom.xml" | head -1)"
    echo "itemsim: assembling Spark $version from Maven Central into target/spark-home (no SPARK_HOME set) ..." >&2
    local tmp="$home.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp/jars" "$tmp/conf"
    (cd "$itemsim_root/scripts/spark-distribution" && mvn -q -B -Dstyle.color=never dependency:build-classpath \
      -Dspark.version="$version" -Dmdep.outputFile="$tmp/classpath.txt") 2>&1 | _strip_colour >&2
    [[ -s "$tmp/classpath.txt" ]] || { echo "itemsim: could not resolve Spark $version from Maven" >&2; return 1; }
    local jar
    tr ':' '\n' < "$tmp/classpath.txt" | while IFS= read -r jar; do
      [[ -n "$jar" ]] && ln -sf "$jar" "$tmp/jars/$(basename "$jar")"
    done
    ln -s "$itemsim_root/conf/log4j2.properties" "$tmp/conf/log4j2.properties"
    echo "Spark $version (Scala 2.13), assembled by itemsim from Maven Central" > "$tmp/RELEASE"
    # replace the old installation in one rename; a concurrent assembler's result is as good as ours
    rm -rf "$home.old.$$"
    [[ -e "$home" ]] && mv "$home" "$home.old.$$" 2>/dev/null || true
    mv -T "$tmp" "$home" 2>/dev/null || rm -rf "$tmp"
    rm -rf "$home.old.$$"
  fi
  ITEMSIM_SPARK_HOME="$home"
}

# Runs (exec) a Spark entry point with $SPARK_HOME's jars, like $SPARK_HOME/bin/spark-class.
spark_class() {
  : "${SPARK_HOME:?spark_class needs SPARK_HOME}"
  export SPARK_SCALA_VERSION="${SPARK_SCALA_VERSION:-2.13}"
  local java="java"
  [[ -n "${JAVA_HOME:-}" ]] && java="$JAVA_HOME/bin/java"
  # The launcher prints its own messages, then a NUL and a newline, then the command's arguments, each ended
  # by a NUL; the last one is its exit status (printed below).
  local cmd=() arg started=""
  while IFS= read -r -d '' arg; do
    if [[ -z "$started" ]]; then
      [[ -n "$arg" ]] && printf '%s\n' "$arg" >&2
      started=yes
      continue
    fi
    [[ ${#cmd[@]} -eq 0 ]] && arg="${arg#$'\n'}"
    cmd+=("$arg")
  done < <("$java" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main "$@"; printf '%d\0' $?)
  if [[ ${#cmd[@]} -eq 0 ]]; then
    echo "itemsim: Spark's launcher failed (SPARK_HOME=$SPARK_HOME)" >&2
    exit 1
  fi
  local status="${cmd[${#cmd[@]}-1]}"
  unset 'cmd[${#cmd[@]}-1]'
  if [[ "$status" != 0 || ${#cmd[@]} -eq 0 ]]; then
    exit "$((status == 0 ? 1 : status))"
  fi
  exec "${cmd[@]}"
}
