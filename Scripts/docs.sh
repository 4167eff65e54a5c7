#!/usr/bin/env bash
# Builds the DocC documentation of the library (make docs): every public symbol of the modules that `Recurrent`
# re-exports, the articles of Sources/Recurrent/Documentation.docc and the snippets they show, into
# $DOCS_OUT/Recurrent.doccarchive (default .build/docs); prints how many public symbols have no doc comment.
#
# `Recurrent` is an umbrella (`@_exported import RecurrentNN` …), whose own symbol graph is empty: the symbols are
# extracted here with swift-symbolgraph-extract's -experimental-allowed-reexported-modules, from the modules that
# `make test` builds (same flags, so nothing is rebuilt after it), and handed to swift-docc-plugin's
# generate-documentation as an additional symbol graph directory.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
FLAGS=(-c release -Xswiftc -enable-testing)
OUT=${DOCS_OUT:-.build/docs}
MODULES=RecurrentTensor,RecurrentNN,RecurrentData,RecurrentIO,RecurrentModels,RecurrentTraining,RecurrentDistributed,RecurrentKeras,RecurrentONNX

"$SWIFT" build "${FLAGS[@]}" --target Recurrent
BIN=$("$SWIFT" build "${FLAGS[@]}" --show-bin-path)
TRIPLE=$("$SWIFT" -print-target-info | python3 -c 'import json, sys; print(json.load(sys.stdin)["target"]["unversionedTriple"])')
GRAPHS="$OUT/symbol-graphs"
rm -rf "$GRAPHS"
mkdir -p "$GRAPHS"
# The C modules the Swift ones import: CBLAS, CMPI, CHDF5 (module maps in Sources/), ZIPFoundation's CZlib, the kernels' generated module map.
C_INCLUDES=(-I Sources/CBLAS -I Sources/CMPI -I Sources/CHDF5 -I .build/checkouts/ZIPFoundation/Sources/CZLib -Xcc "-fmodule-map-file=$BIN/CRecurrentKernels.build/module.modulemap")
for flag in $(pkg-config --cflags-only-I openblas ompi-c hdf5 2>/dev/null || true); do C_INCLUDES+=("$flag"); done
"$(dirname "$(command -v "$SWIFT")")/swift-symbolgraph-extract" -module-name Recurrent -target "$TRIPLE" -I "$BIN/Modules" \
  "${C_INCLUDES[@]}" -minimum-access-level public -experimental-allowed-reexported-modules="$MODULES" -output-dir "$GRAPHS"

# The snippets the articles show (`@Snippet`), with swift-docc-plugin's own extractor: the plugin passes docc its
# symbol graph folder, and the one given below replaces it, so it must hold the snippets too.
"$SWIFT" build "${FLAGS[@]}" --product snippet-extract
"$BIN/snippet-extract" --output "$GRAPHS/Recurrent-snippets.symbols.json" --module-name Recurrent Snippets/*.swift

python3 Scripts/undocumented_symbols.py "$GRAPHS"

"$SWIFT" package "${FLAGS[@]}" --allow-writing-to-directory "$OUT" generate-documentation --target Recurrent \
  --additional-symbol-graph-dir "$GRAPHS" --output-path "$OUT/Recurrent.doccarchive"

# The archive must really document the re-exported modules and hold the articles.
for page in recurrent/lstm recurrent/trainer recurrent/tensor recurrent/backpropagationthroughtime recurrent/encoderdecoder; do
  [ -f "$OUT/Recurrent.doccarchive/data/documentation/$page.json" ] || { echo "docs.sh: no page $page in the archive" >&2; exit 1; }
done
echo "pages: $(find "$OUT/Recurrent.doccarchive/data/documentation" -name '*.json' | wc -l); open $OUT/Recurrent.doccarchive with 'docc preview' or serve it statically"
