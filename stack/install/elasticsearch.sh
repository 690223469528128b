#!/usr/bin/env bash
# Elasticsearch 9.5.3 from Maven Central's integ-test-zip (the only build reachable here), plus our stable-API nori
# plugin built from elasticsearch/nori-plugin (the official analysis-nori is not on Maven Central). SPEC §12.
#
# Running it (the stack CLI's side):
# - The distribution bundles no JDK: $ES_HOME/jdk is made a symlink to the JDK 21+ found here, which
#   bin/elasticsearch uses when ES_JAVA_HOME is unset.
# - Elasticsearch refuses to run as root. As root, this recipe creates the system user `heimdall` and
#   makes the install readable (not writable) by it; run Elasticsearch as that user.
# - The install stays read-only and shared: give each stack its own config directory, a copy of
#   $ES_HOME/config owned by the user running Elasticsearch (the node writes elasticsearch.keystore there), through
#   ES_PATH_CONF, and its own path.data and path.logs.
# - Pass -Expack.security.enabled=false (or write it into that config): with security on, the first start rewrites
#   elasticsearch.yml, adds config/certs and then dies on a secure setting this distribution does not know.
source "$(dirname "$0")/common.sh"
VERSION="${ELASTICSEARCH_VERSION:-9.5.3}"
NORI_LUCENE_VERSION="${NORI_LUCENE_VERSION:-10.5.0}"
PLUGIN=heimdall-analysis-nori
RUN_USER=heimdall
ES_HOME="$HEIMDALL_CACHE/elasticsearch-$VERSION"
PLUGIN_SRC="$(cd "$(dirname "$0")/../../elasticsearch/nori-plugin" && pwd)"

# Concurrent runs (two checkouts starting at once) would otherwise race on the same install.
exec 9>"$HEIMDALL_CACHE/.elasticsearch.lock"
flock 9

java_major() { # JDK home -> feature version (17, 21, 25...), empty if not a JDK
  local home="$1" v=""
  [ -x "$home/bin/java" ] || return 0
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\(.*\)"$/\1/p' "$home/release")
  fi
  [ -n "$v" ] || v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  v="${v#1.}"
  echo "${v%%[!0-9]*}"
}

find_jdk() {
  local home major best="" best_major=0
  if [ -n "${ES_JAVA_HOME:-}" ]; then
    major=$(java_major "$ES_JAVA_HOME")
    [ -n "$major" ] && [ "$major" -ge 21 ] && [ -x "$ES_JAVA_HOME/bin/javac" ] \
      || die "ES_JAVA_HOME=$ES_JAVA_HOME is not a JDK 21+ (with javac)"
    echo "$ES_JAVA_HOME"
    return
  fi
  for home in /usr/lib/jvm/*; do
    [ -x "$home/bin/javac" ] || continue
    major=$(java_major "$home")
    if [ -n "$major" ] && [ "$major" -gt "$best_major" ]; then best="$home" best_major="$major"; fi
  done
  [ "$best_major" -ge 21 ] || die "Elasticsearch $VERSION needs a JDK 21+ (found none in /usr/lib/jvm; JDK 17 is too old):" \
    "apt-get install -y openjdk-21-jdk-headless, or Temurin 21/25 from https://adoptium.net, or set ES_JAVA_HOME"
  # Debian lists the same JDK under several names (java-21-openjdk-amd64, openjdk-21); use the real directory.
  readlink -f "$best"
}
JDK=$(find_jdk)

if [ ! -f "$ES_HOME/lib/elasticsearch-$VERSION.jar" ]; then
  need mvn "apt-get install -y maven (it fetches Elasticsearch from Maven Central)"
  echo "heimdall install: fetching Elasticsearch $VERSION (132 MB) through Maven" >&2
  TMP="$ES_HOME.tmp"
  rm -rf "$TMP"
  mvn -q -B dependency:copy \
    -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION:zip" -DoutputDirectory="$TMP" >&2
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$TMP/elasticsearch-$VERSION.zip" -d "$TMP"
  else
    # jar keeps no file modes: restore the executable bit of the launch scripts.
    (cd "$TMP" && "$JDK/bin/jar" xf "elasticsearch-$VERSION.zip")
    chmod +x "$TMP/elasticsearch-$VERSION/bin/"*
  fi
  rm -rf "$ES_HOME"
  mv "$TMP/elasticsearch-$VERSION" "$ES_HOME"
  rm -rf "$TMP" # the zip stays in Maven's local repository
fi
[ "$(readlink "$ES_HOME/jdk" 2>/dev/null)" = "$JDK" ] || ln -sfn "$JDK" "$ES_HOME/jdk"

# The plugin is rebuilt when its sources, the Lucene nori version or the Elasticsearch version change.
HASH=$(
  cd "$PLUGIN_SRC"
  { echo "$VERSION $NORI_LUCENE_VERSION"; find src stable-plugin-descriptor.properties named_components.json -type f \
      | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-16
)
if [ "$(cat "$ES_HOME/.heimdall-plugin" 2>/dev/null)" != "$HASH" ]; then
  PLUGIN_ZIP="$HEIMDALL_CACHE/elasticsearch-plugins/$PLUGIN-$HASH.zip"
  if [ ! -f "$PLUGIN_ZIP" ]; then
    need mvn "apt-get install -y maven (it fetches lucene-analysis-nori from Maven Central)"
    BUILD="$HEIMDALL_CACHE/elasticsearch-plugins/build-$HASH"
    rm -rf "$BUILD"
    mkdir -p "$BUILD/classes" "$BUILD/zip"
    mvn -q -B dependency:copy \
      -Dartifact="org.apache.lucene:lucene-analysis-nori:$NORI_LUCENE_VERSION" -DoutputDirectory="$BUILD/zip" >&2
    # The server's own jars (lucene-core, the stable plugin API) are what the plugin runs against.
    find "$PLUGIN_SRC/src" -name '*.java' >"$BUILD/sources"
    "$JDK/bin/javac" --release 21 -Xlint:all -d "$BUILD/classes" \
      -cp "$ES_HOME/lib/*:$BUILD/zip/lucene-analysis-nori-$NORI_LUCENE_VERSION.jar" "@$BUILD/sources" >&2
    "$JDK/bin/jar" --create --file "$BUILD/zip/$PLUGIN.jar" -C "$BUILD/classes" .
    # Shipping named_components.json spares the installer a scan of every class (which needs a large heap).
    cp "$PLUGIN_SRC/stable-plugin-descriptor.properties" "$PLUGIN_SRC/named_components.json" "$BUILD/zip/"
    "$JDK/bin/jar" --create --no-manifest --file "$BUILD/plugin.zip" -C "$BUILD/zip" .
    mv "$BUILD/plugin.zip" "$PLUGIN_ZIP"
    rm -rf "$BUILD"
  fi
  export ES_JAVA_HOME="$JDK" CLI_JAVA_OPTS="-Xmx512m"
  unset JAVA_HOME # bin/elasticsearch-env warns that it ignores it
  # Rather than `elasticsearch-plugin remove`: a JVM less, and it also clears a half-installed copy.
  rm -rf "$ES_HOME/plugins/$PLUGIN"
  "$ES_HOME/bin/elasticsearch-plugin" install --batch "file://$PLUGIN_ZIP" >&2
  echo "$HASH" >"$ES_HOME/.heimdall-plugin"
fi

if [ "$(id -u)" = 0 ]; then
  if ! id "$RUN_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER" \
      || die "could not create the system user $RUN_USER that Elasticsearch runs as (it refuses root)"
  fi
  chmod -R a+rX "$ES_HOME"
  # A cache under /root (mode 700) is out of the user's reach: open its parents for traversal only (x, not r).
  if ! runuser -u "$RUN_USER" -- test -r "$ES_HOME/lib/elasticsearch-$VERSION.jar"; then
    dir="$ES_HOME"
    while [ "$dir" != / ]; do
      dir=$(dirname "$dir")
      if [ -n "$(find "$dir" -maxdepth 0 ! -perm -o+x)" ]; then
        echo "heimdall install: chmod o+x $dir, so that the user $RUN_USER can reach $ES_HOME" >&2
        chmod o+x "$dir"
      fi
    done
  fi
fi
echo "$ES_HOME"
