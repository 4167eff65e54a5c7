// swift-tools-version: 6.0
import PackageDescription

// Layers of the design are separate modules; each imports only those below it:
// CBLAS, CRecurrentKernels → RecurrentTensor → RecurrentNN → RecurrentData / RecurrentIO → RecurrentModels → RecurrentTraining
// → RecurrentDistributed → Recurrent → RecurrentPresentation, RecurrentBenchmarks → RecurrentCLI.

let package = Package(
    name: "Recurrent",
    platforms: [.macOS(.v13)],

    // MARK: products
    products: [
        .library(name: "Recurrent", targets: ["Recurrent"]),
        .executable(name: "recurrent", targets: ["RecurrentCLI"]),
        .executable(name: "recurrent-bench", targets: ["RecurrentBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        // RFC 4180 CSV reading for the forecasting data (issue 22).
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        // `swift package generate-documentation` (make docs): DocC for the library, with the articles' snippets (issue 21).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The zip container of Keras 3 `.keras` files (issue 21).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // ONNX export (issue 21): the protobuf runtime only; Sources/RecurrentONNX/Generated is generated once by Scripts/generate_onnx_proto.sh.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],

    // MARK: targets
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
        ),
        // C helpers of the kernels: the second worker thread and its barrier (C11 atomics, pthreads).
        .target(name: "CRecurrentKernels"),
        .target(
            name: "RecurrentTensor",
            dependencies: ["CRecurrentKernels", .target(name: "CBLAS", condition: .when(platforms: [.linux]))],
            linkerSettings: [.linkedFramework("Accelerate", .when(platforms: [.macOS]))]
        ),
        .target(name: "RecurrentNN", dependencies: ["RecurrentTensor", "CRecurrentKernels"]),
        .target(name: "RecurrentData", dependencies: ["RecurrentTensor", .product(name: "CSV", package: "CSV.swift")]),
        .target(name: "RecurrentIO", dependencies: ["RecurrentTensor"]),
        .target(
            name: "RecurrentModels",
            dependencies: ["RecurrentTensor", "RecurrentNN", "RecurrentData", "RecurrentIO"]
        ),
        // The one training loop: Trainer, TrainingTask and the tasks, RunFolder, RunState; prints nothing.
        .target(
            name: "RecurrentTraining",
            dependencies: ["RecurrentTensor", "RecurrentNN", "RecurrentData", "RecurrentIO", "RecurrentModels"]
        ),
        // Open MPI's C API; a shim header returns the handles that are macros in mpi.h.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"]), .brew(["open-mpi"])]
        ),
        // Data-parallel training: ProcessGroup (MPI, single process), DataParallel (bucketed gradient all-reduce).
        .target(name: "RecurrentDistributed", dependencies: ["CMPI", "RecurrentTensor", "RecurrentNN", "RecurrentTraining"]),
        // Debian's libhdf5 (serial), through a shim for the handles that are macros in hdf5.h (issue 21).
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"])]
        ),
        // Keras 3 `.keras` / `.weights.h5` files into the library's layers and checkpoints (issue 21).
        .target(
            name: "RecurrentKeras",
            dependencies: ["CHDF5", "RecurrentTensor", "RecurrentNN", "RecurrentIO", "RecurrentModels",
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        // ONNX export (issue 21): a graph builder over the layers, the task models' graphs, the vendored onnx.proto's Swift code.
        .target(
            name: "RecurrentONNX",
            dependencies: ["RecurrentTensor", "RecurrentNN", "RecurrentModels", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(
            name: "Recurrent",
            dependencies: ["RecurrentTensor", "RecurrentNN", "RecurrentData", "RecurrentIO", "RecurrentModels", "RecurrentTraining",
                           "RecurrentDistributed", "RecurrentKeras", "RecurrentONNX"]
        ),
        // What the command line shows: progress bars, SVG charts, experiment tables, signal handling. The library does not import it.
        .target(name: "RecurrentPresentation", dependencies: ["RecurrentTraining", "RecurrentModels"]),
        // The speed benchmark (issue 6): configurations, workloads, timing; run by `recurrent bench` and `recurrent-bench`.
        .target(name: "RecurrentBenchmarks", dependencies: ["Recurrent"], path: "Benchmarks/RecurrentBenchmarks"),
        .executableTarget(
            name: "RecurrentCLI",
            dependencies: ["Recurrent", "RecurrentPresentation", "RecurrentBenchmarks", .product(name: "ArgumentParser", package: "swift-argument-parser"), "Yams"]
        ),
        .executableTarget(name: "RecurrentBench", dependencies: ["RecurrentBenchmarks", "Recurrent", "RecurrentPresentation"], path: "Benchmarks/RecurrentBench"),

        // MARK: tests
        .testTarget(name: "RecurrentTensorTests", dependencies: ["RecurrentTensor"]),
        .testTarget(name: "RecurrentNNTests", dependencies: ["RecurrentNN", "RecurrentIO"]),
        .testTarget(name: "RecurrentIOTests", dependencies: ["RecurrentIO"]),
        .testTarget(name: "RecurrentDataTests", dependencies: ["RecurrentData"]),
        .testTarget(name: "RecurrentModelsTests", dependencies: ["RecurrentModels", "RecurrentTraining", "RecurrentPresentation"]),
        .testTarget(name: "RecurrentONNXTests", dependencies: ["RecurrentONNX", "RecurrentModels", "RecurrentIO"]),
        .testTarget(name: "RecurrentDistributedTests", dependencies: ["RecurrentDistributed", "RecurrentTraining", "RecurrentIO"]),
        // Runs the programs in Snippets/ (the code the DocC articles show) and checks their output; they are built beside it.
        .testTarget(name: "RecurrentSnippetTests"),
        .testTarget(name: "RecurrentKerasTests", dependencies: ["RecurrentKeras", "RecurrentIO", "RecurrentNN", "RecurrentModels",
                                                              .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
    ],
    // Every module, tests included, in the Swift 6 language mode (strict concurrency checking).
    swiftLanguageModes: [.v6]
)
