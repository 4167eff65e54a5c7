import CHDF5
import Foundation

/// HDF5's library state is global and Debian's serial build is not thread-safe: every call goes through this lock.
let hdf5Lock = NSLock()

/// A read-only HDF5 file held in memory (HDF5's core driver over a copy of the bytes), with the two reads the
/// Keras importer needs: the members of a group and a dataset as `Float`s. HDF5's automatic error printing is
/// turned off; failures become `KerasError`s.
final class HDF5File {
    /// HDF5's format signature (at byte 0 of every file Keras writes).
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    /// Largest dataset read, in elements (512 MiB of Float): a size read from a file is checked before allocating.
    static let maximumElements = 1 << 27
    /// Most members listed in one group.
    static let maximumMembers = 1 << 16

    /// Names the file in messages (a path, or `model.weights.h5 in x.keras`).
    let source: String
    private let file: hid_t

    /// - Throws: `KerasError.notHDF5` without the signature, `.damagedHDF5` when HDF5 cannot open it.
    init(bytes: Data, source: String) throws(KerasError) {
        self.source = source
        guard bytes.count >= 8, bytes.prefix(8).elementsEqual(Self.signature) else { throw .notHDF5(source: source) }
        hdf5Lock.lock()
        defer { hdf5Lock.unlock() }
        _ = chdf5_silence_errors()
        let access = H5Pcreate(chdf5_file_access_class())
        guard access >= 0 else { throw .damagedHDF5(source: source, reason: "cannot create a file-access property list") }
        defer { H5Pclose(access) }
        // In memory, never written back; the image is copied by HDF5.
        guard H5Pset_fapl_core(access, 1 << 16, false) >= 0,
              bytes.withUnsafeBytes({ H5Pset_file_image(access, UnsafeMutableRawPointer(mutating: $0.baseAddress), $0.count) }) >= 0
        else { throw .damagedHDF5(source: source, reason: "cannot hand the bytes to HDF5") }
        // A unique name: HDF5 refuses to open the same name twice at once.
        let id = H5Fopen("recurrent-keras-\(UUID().uuidString).h5", chdf5_read_only(), access)
        guard id >= 0 else { throw .damagedHDF5(source: source, reason: "cannot open it") }
        file = id
    }

    deinit {
        hdf5Lock.lock()
        H5Fclose(file)
        hdf5Lock.unlock()
    }

    /// Names of the members of the group at `path`, sorted by name (HDF5's name index).
    /// - Throws: `KerasError.missingGroup` when there is no such group, `.damagedHDF5`, `.tooLarge`.
    func members(of path: String) throws(KerasError) -> [String] {
        hdf5Lock.lock()
        defer { hdf5Lock.unlock() }
        let group = H5Gopen2(file, path, 0)
        guard group >= 0 else { throw .missingGroup(path: path) }
        defer { H5Gclose(group) }
        var info = H5G_info_t()
        guard H5Gget_info(group, &info) >= 0 else { throw .damagedHDF5(source: source, reason: "cannot list group '\(path)'") }
        guard info.nlinks <= UInt64(Self.maximumMembers) else {
            throw .tooLarge(what: "group '\(path)'", size: Int(clamping: info.nlinks), limit: Self.maximumMembers)
        }
        var names: [String] = []
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, 0)
            guard length >= 0, length < 4096 else { throw .damagedHDF5(source: source, reason: "cannot read a member name of '\(path)'") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            guard H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, 0) >= 0 else {
                throw .damagedHDF5(source: source, reason: "cannot read a member name of '\(path)'")
            }
            names.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// Whether a group exists at `path` (every component a group).
    func hasGroup(_ path: String) -> Bool {
        hdf5Lock.lock()
        defer { hdf5Lock.unlock() }
        let group = H5Gopen2(file, path, 0)
        guard group >= 0 else { return false }
        H5Gclose(group)
        return true
    }

    /// The floating-point dataset at `path`, converted to `Float` by HDF5, in row-major order.
    /// - Throws: `KerasError.missingDataset`, `.notFloatingPoint`, `.tooLarge`, `.damagedHDF5`.
    func floats(at path: String) throws(KerasError) -> (shape: [Int], values: [Float]) {
        hdf5Lock.lock()
        defer { hdf5Lock.unlock() }
        let dataset = H5Dopen2(file, path, 0)
        guard dataset >= 0 else { throw .missingDataset(path: path) }
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        guard type >= 0 else { throw .damagedHDF5(source: source, reason: "cannot read the type of '\(path)'") }
        defer { H5Tclose(type) }
        // IEEE half, single or double precision: HDF5 sizes its conversion buffer by the file's element size, which a
        // damaged file can set to gigabytes (fuzzing finding 11).
        guard H5Tget_class(type) == H5T_FLOAT, [2, 4, 8].contains(H5Tget_size(type)) else { throw .notFloatingPoint(path: path) }
        let space = H5Dget_space(dataset)
        guard space >= 0 else { throw .damagedHDF5(source: source, reason: "cannot read the shape of '\(path)'") }
        defer { H5Sclose(space) }
        guard H5Sget_simple_extent_type(space) == H5S_SIMPLE || H5Sget_simple_extent_type(space) == H5S_SCALAR else {
            throw .notFloatingPoint(path: path)
        }
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0, rank <= 8 else { throw .damagedHDF5(source: source, reason: "'\(path)' has rank \(rank)") }
        var dims = [hsize_t](repeating: 0, count: max(Int(rank), 1))
        guard H5Sget_simple_extent_dims(space, &dims, nil) == rank else {
            throw .damagedHDF5(source: source, reason: "cannot read the shape of '\(path)'")
        }
        var shape: [Int] = [], count = 1
        for d in dims.prefix(Int(rank)) {
            guard d <= UInt64(Self.maximumElements) else {
                throw .tooLarge(what: "dataset '\(path)'", size: Int(clamping: d), limit: Self.maximumElements)
            }
            shape.append(Int(d))
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product <= Self.maximumElements else {
                throw .tooLarge(what: "dataset '\(path)'", size: overflow ? Int.max : product, limit: Self.maximumElements)
            }
            count = product
        }
        var values = [Float](repeating: 0, count: count)
        if count > 0 {
            let status = values.withUnsafeMutableBytes { H5Dread(dataset, chdf5_native_float(), 0, 0, 0, $0.baseAddress) }
            guard status >= 0 else { throw .damagedHDF5(source: source, reason: "cannot read the values of '\(path)'") }
        }
        return (shape, values)
    }
}
