import Foundation

/// An array read from NumPy's `.npy` format (version 1–3), or from one entry of an `.npz` archive.
///
/// Numbers (`f2`/`f4`/`f8`, signed and unsigned integers of 1–8 bytes, `b1`) are read little-endian or
/// big-endian as the `descr` says, into Double; Unicode strings (`<U…`, NumPy's default for string labels) into
/// `strings`. C order only: a `fortran_order: True` array is refused with a message. Everything comes from
/// outside, so every size is checked against the bytes actually there before anything is allocated.
public struct NumpyArray: Equatable, Sendable {
    /// The array's dimensions, outermost first.
    public var shape: [Int]
    /// The values in C order, for numeric arrays (empty for string arrays).
    public var numbers: [Double]
    /// The values in C order, for string arrays (nil for numeric ones).
    public var strings: [String]?

    /// Number of elements: the product of `shape`.
    public var count: Int { shape.reduce(1, *) }

    /// An array made in memory (a mask, labels): `numbers` (or `strings`) hold the product of `shape` values in C order.
    public init(shape: [Int], numbers: [Double], strings: [String]? = nil) {
        precondition(shape.allSatisfy { $0 >= 0 } && (strings?.count ?? numbers.count) == shape.reduce(1, *),
                     "NumpyArray: \(strings?.count ?? numbers.count) values for shape \(shape)")
        self.shape = shape
        self.numbers = numbers
        self.strings = strings
    }

    /// Reads an `.npy` file.
    public static func read(path: String) throws -> NumpyArray {
        try parse(readBinaryFile(path), path: path)
    }

    /// Parses the bytes of one `.npy` array; `path` names it in errors.
    public static func parse(_ data: Data, path: String) throws -> NumpyArray {
        let bytes = [UInt8](data)
        func bad(_ reason: String) -> DataError { .badFile(path: path, reason: reason) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw bad("not an .npy array (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated .npy header") }
            headerLength = (8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
            headerStart = 12
        default: throw bad(".npy format version \(major) is not supported (1, 2 or 3)")
        }
        guard headerLength <= bytes.count - headerStart else { throw bad("truncated .npy header") }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw bad("unreadable .npy header")
        }
        let descr = try headerValue("descr", in: header, path: path).trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let fortran = try headerValue("fortran_order", in: header, path: path).trimmingCharacters(in: .whitespaces)
        guard fortran == "False" else { throw bad("Fortran-order arrays are not supported; save with np.ascontiguousarray") }
        let shapeText = try headerValue("shape", in: header, path: path)
        let shape = try shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { word -> Int in
                guard let n = Int(word), n >= 0 else { throw bad("bad shape \(shapeText)") }
                return n
            }
        var count = 1
        for n in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product <= 1 << 40 else { throw bad("shape \(shapeText) is too large") }
            count = product
        }
        let payload = bytes[(headerStart + headerLength)...]
        guard descr.count >= 3, let order = descr.first, "<>|=".contains(order), let size = Int(descr.dropFirst(2)), size >= 1, size <= 1 << 20 else {
            throw bad("data type '\(descr)' is not supported")
        }
        let kind = descr[descr.index(after: descr.startIndex)]
        let big = order == ">"
        let itemSize = kind == "U" ? 4 * size : size
        let (needed, overflow) = count.multipliedReportingOverflow(by: itemSize)
        guard !overflow, payload.count >= needed else {
            throw bad("holds \(payload.count) bytes of data, less than the shape \(shape) of '\(descr)' needs")
        }
        let base = payload.startIndex
        func word(_ i: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(bytes[base + i * n + (big ? n - 1 - k : k)]) << (8 * k) }
            return v
        }
        if kind == "U" {
            var strings: [String] = []
            strings.reserveCapacity(count)
            for i in 0..<count {
                var scalars = String.UnicodeScalarView()
                for c in 0..<size {
                    let offset = base + (i * size + c) * 4
                    var v: UInt32 = 0
                    for k in 0..<4 { v |= UInt32(bytes[offset + (big ? 3 - k : k)]) << (8 * k) }
                    if v == 0 { break }
                    guard let scalar = Unicode.Scalar(v) else { throw bad("item \(i) is not valid Unicode") }
                    scalars.append(scalar)
                }
                strings.append(String(scalars))
            }
            return NumpyArray(shape: shape, numbers: [], strings: strings)
        }
        var numbers = [Double](repeating: 0, count: count)
        switch (kind, size) {
        case ("f", 2): for i in 0..<count { numbers[i] = Double(Float16Bits(UInt16(word(i, 2)))) }
        case ("f", 4): for i in 0..<count { numbers[i] = Double(Float(bitPattern: UInt32(word(i, 4)))) }
        case ("f", 8): for i in 0..<count { numbers[i] = Double(bitPattern: word(i, 8)) }
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8):
            for i in 0..<count {
                let shift = UInt64(64 - 8 * size)
                numbers[i] = Double(Int64(bitPattern: word(i, size) << shift) >> Int64(shift))
            }
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8), ("b", 1): for i in 0..<count { numbers[i] = Double(word(i, size)) }
        default: throw bad("data type '\(descr)' is not supported (floats, integers, booleans or Unicode strings)")
        }
        return NumpyArray(shape: shape, numbers: numbers, strings: nil)
    }

    /// The text after `'key':` in the header dict, up to the next top-level comma.
    static func headerValue(_ key: String, in header: String, path: String) throws -> String {
        guard let range = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else {
            throw DataError.badFile(path: path, reason: "the .npy header has no '\(key)'")
        }
        var depth = 0, value = ""
        for c in header[range.upperBound...] {
            if c == "(" || c == "[" { depth += 1 }
            if c == ")" || c == "]" { depth -= 1 }
            if (c == "," && depth == 0) || c == "}" { break }
            value.append(c)
        }
        return value.trimmingCharacters(in: .whitespaces)
    }

    /// The entries of an `.npz` archive (what `np.savez` writes: a zip of `.npy` files), by name without `.npy`.
    ///
    /// Only stored (uncompressed) entries are read, which is what `np.savez` writes; a deflated entry
    /// (`np.savez_compressed`) is refused with a message. Reading stored entries by hand keeps a zip library and
    /// zlib (a system library on Linux) out of the build for this one path.
    public static func readArchive(path: String) throws -> [String: NumpyArray] {
        let bytes = [UInt8](try readBinaryFile(path))
        func bad(_ reason: String) -> DataError { .badFile(path: path, reason: reason) }
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        var arrays: [String: NumpyArray] = [:], offset = 0
        // Local file headers one after another (signature PK\3\4), until the central directory (PK\1\2).
        while offset + 30 <= bytes.count, u32(offset) == 0x0403_4B50 {
            let flags = u16(offset + 6), method = u16(offset + 8)
            var compressed = u32(offset + 18)
            let nameLength = u16(offset + 26), extraLength = u16(offset + 28)
            let nameStart = offset + 30, dataStart = nameStart + nameLength + extraLength
            guard dataStart <= bytes.count else { throw bad("truncated zip entry header") }
            let name = String(decoding: bytes[nameStart..<(nameStart + nameLength)], as: UTF8.self)
            if compressed == 0xFFFF_FFFF || flags & 0x08 != 0 {
                // ZIP64 sizes (NumPy writes them for entries it cannot size in advance): the extra field's first values.
                var e = nameStart + nameLength
                while e + 4 <= dataStart {
                    let id = u16(e), length = u16(e + 2)
                    if id == 0x0001, length >= 16, e + 20 <= bytes.count { compressed = u32(e + 12) | u32(e + 16) << 32 }
                    e += 4 + length
                }
            }
            guard method == 0 else {
                throw bad("entry \(name) is compressed (np.savez_compressed); save with np.savez, or as separate .npy files")
            }
            guard compressed <= bytes.count - dataStart else { throw bad("entry \(name) is truncated") }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            arrays[key] = try parse(Data(bytes[dataStart..<(dataStart + compressed)]), path: "\(path)[\(name)]")
            offset = dataStart + compressed
            if flags & 0x08 != 0, offset + 4 <= bytes.count, u32(offset) == 0x0807_4B50 { offset += 16 }   // data descriptor
        }
        guard !arrays.isEmpty else { throw bad("not an .npz archive (no stored .npy entries)") }
        return arrays
    }
}

/// IEEE half precision bits to Float (Float16 is not available on every platform Swift runs on).
private func Float16Bits(_ h: UInt16) -> Float {
    let sign: Float = h & 0x8000 != 0 ? -1 : 1
    let exponent = Int(h >> 10 & 0x1F), fraction = Float(h & 0x3FF)
    switch exponent {
    case 0: return sign * fraction * Float(pow(2.0, -24.0))
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Float(pow(2.0, Double(exponent - 15)))
    }
}

/// Reads a whole file as bytes, turning every failure into a `DataError`.
public func readBinaryFile(_ path: String) throws -> Data {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError.fileNotFound(path: path) }
    if isDirectory.boolValue { throw DataError.unreadable(path: path, reason: "it is a directory") }
    do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw DataError.unreadable(path: path, reason: error.localizedDescription)
    }
}
