#!/usr/bin/env bash
# Regenerates Sources/RecurrentONNX/Generated/onnx.pb.swift from the vendored Vendor/onnx/onnx.proto.
#
# Run by hand after updating the proto, never in CI: building swift-protobuf's protoc-gen-swift takes
# about 10 minutes. Needs protoc (Debian's protobuf-compiler) and git. The plugin is built outside the
# repository, from apple/swift-protobuf at the tag the package depends on:
#   Scripts/generate_onnx_proto.sh [TOOLS_DIR]     (default: ${TMPDIR:-/tmp}/recurrent-tools)
# SWIFT_PROTOBUF_GIT overrides where the swift-protobuf sources come from (a local mirror, say).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.39.0
TOOLS="${1:-${TMPDIR:-/tmp}/recurrent-tools}"
SOURCE="${SWIFT_PROTOBUF_GIT:-https://github.com/apple/swift-protobuf.git}"
PLUGIN_DIR="$TOOLS/swift-protobuf"
if [ ! -x "$PLUGIN_DIR/.build/release/protoc-gen-swift" ]; then
  [ -d "$PLUGIN_DIR" ] || git clone --quiet --branch "$VERSION" --depth 1 "$SOURCE" "$PLUGIN_DIR"
  (cd "$PLUGIN_DIR" && swift build -c release --product protoc-gen-swift)
fi
protoc --plugin=protoc-gen-swift="$PLUGIN_DIR/.build/release/protoc-gen-swift" \
  --swift_opt=Visibility=Public --swift_out=Sources/RecurrentONNX/Generated \
  --proto_path=Vendor/onnx Vendor/onnx/onnx.proto
echo "wrote Sources/RecurrentONNX/Generated/onnx.pb.swift (protoc $(protoc --version | cut -d' ' -f2), swift-protobuf $VERSION)"
