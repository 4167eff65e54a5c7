// Is OpenBLAS's sgemm bit-identical across thread counts? (docs/RELIABILITY.md, "Determinism")
// Build and run (Linux):
//   swiftc -O -I Sources/CBLAS $(pkg-config --cflags openblas | sed 's/-I/-Xcc -I/g') $(pkg-config --libs openblas) \
//       Scripts/gemm_threads.swift -o /tmp/gemm_threads && /tmp/gemm_threads
// The shapes are those of the recurrent layers (T·B × 4H × I and their transposes).
import CBLAS
@_silgen_name("openblas_set_num_threads") func openblas_set_num_threads(_ n: Int32)
func run(_ threads: Int32, m: Int, n: Int, k: Int) -> [Float] {
    openblas_set_num_threads(threads)
    var g: UInt64 = 42
    func r() -> Float { g = g &* 6364136223846793005 &+ 1442695040888963407; return Float(Int64(bitPattern: g >> 11) % 2000) / 1000 - 1 }
    let a = (0..<m*k).map { _ in r() }, b = (0..<k*n).map { _ in r() }
    var c = [Float](repeating: 0, count: m*n)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(k), 0, &c, Int32(n))
    return c
}
for (m, n, k) in [(2048, 1024, 256), (1024, 256, 2048), (256, 1024, 2048), (32, 1024, 256), (1024, 1024, 1024)] {
    let one = run(1, m: m, n: n, k: k), two = run(2, m: m, n: n, k: k)
    let again = run(2, m: m, n: n, k: k)
    let diff = zip(one, two).filter { $0.bitPattern != $1.bitPattern }.count
    let repeatDiff = zip(two, again).filter { $0.bitPattern != $1.bitPattern }.count
    print("sgemm m=\(m) n=\(n) k=\(k): \(diff) of \(one.count) results differ between 1 and 2 threads; \(repeatDiff) between two 2-thread calls")
}
