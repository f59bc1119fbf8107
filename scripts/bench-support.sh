#!/usr/bin/env bash
# Sourced by scripts/bench-*: compiles main and test classes and caches the test classpath.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
echo "building (mvn -q -DskipTests test-compile) ..." >&2
mvn -q -B -Dstyle.color=never -DskipTests test-compile >&2
cp_file="$here/target/test-classpath.txt"
if [[ ! -s "$cp_file" || "$here/pom.xml" -nt "$cp_file" ]]; then
  mvn -q -B -Dstyle.color=never dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2
  touch "$cp_file"
fi
BENCH_CP="$here/target/test-classes:$here/target/classes:$(cat "$cp_file")"
export OPENBLAS_NUM_THREADS=1 SPARK_LOCAL_IP=127.0.0.1
bench_java() {
  java -Xmx4g --add-modules jdk.incubator.vector -Dai.djl.offline=true -Dai.djl.onnx.disable_alternative=true \
    -Dlog4j2.configurationFile="$here/conf/log4j2-test.properties" -cp "$BENCH_CP" "$@"
}
