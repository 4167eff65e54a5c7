// swift-tools-version: 6.0
import PackageDescription

// An app that depends on Recurrent the way any other package would: through the `Recurrent` library product.
// Here the dependency is the checkout two folders up; from elsewhere it is
//     .package(url: "https://github.com/OWNER/Recurrent", from: "1.0.0")
// with the same `.product(name: "Recurrent", package: "Recurrent")` below.
let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Recurrent", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "Consumer",
            dependencies: [.product(name: "Recurrent", package: "Recurrent")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
