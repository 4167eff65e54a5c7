import ArgumentParser
import Foundation
import Recurrent

/// What `mpirun -np N recurrent train …` adds to a run: the MPI process group, each process's view of
/// the run folder (process 0 owns it; the others get a private scratch folder, filled from process 0's
/// when resuming, so that machines need not share a file system), the global batch, and the identity
/// the processes must agree on. Without mpirun none of this happens and a run is a single process's.
enum DataParallelLaunch {
    /// The process group of this job: nil without mpirun. MPI is initialised on first use, once per process.
    nonisolated(unsafe) private static var started: DataParallel??
    nonisolated(unsafe) private static var scratch: URL?

    static var replicas: DataParallel? {
        if let started { return started }
        var group: DataParallel?
        if MPIProcessGroup.isLaunchedByMPI {
            do { group = DataParallel(try MPIProcessGroup()) } catch {
                FileHandle.standardError.write(Data("error: cannot start MPI: \(error)\n".utf8))
                Foundation.exit(1)
            }
            // Process 0 speaks for the job; the others keep stderr for errors of their own.
            if let group, group.rank > 0 {
                let null = open("/dev/null", O_WRONLY)
                if null >= 0 { dup2(null, STDOUT_FILENO); close(null) }
            }
        }
        started = .some(group)
        return group
    }

    static var rank: Int { replicas?.rank ?? 0 }
    static var isReplicaZero: Bool { rank == 0 }

    /// The folder this process uses for the run folder `url`: `url` itself on process 0; on the others a
    /// scratch folder that, when `resume`, receives process 0's files (collective: every process calls it at the same point).
    static func folder(for url: URL, resume: Bool) -> URL {
        guard let replicas, replicas.count > 1 else { return url }
        if let scratch { return scratch }
        do { return try mirror(url, resume: resume, replicas) } catch {
            FileHandle.standardError.write(Data("error: process \(replicas.rank) cannot set up its copy of the run folder: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }

    private static func mirror(_ url: URL, resume: Bool, _ replicas: DataParallel) throws -> URL {
        var files: [String: [UInt8]] = [:]
        if resume {
            var message: [UInt8] = []
            if replicas.rank == 0 { message = Array(try JSONEncoder().encode(readFiles(in: url))) }
            let received = try replicas.broadcast(message)
            files = try JSONDecoder().decode([String: [UInt8]].self, from: Data(received))
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-process\(replicas.rank)-\(getpid())")
        if replicas.rank > 0 {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, bytes) in files { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
        }
        scratch = replicas.rank == 0 ? url : folder
        if replicas.rank > 0 { atexit { DataParallelLaunch.removeScratch() } }
        return scratch!
    }

    /// The run folder's files (not its temporaries), for the other processes of a resumed run.
    private static func readFiles(in url: URL) -> [String: [UInt8]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        var files: [String: [UInt8]] = [:]
        for name in names where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            let path = url.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
               let data = FileManager.default.contents(atPath: path) {
                files[name] = Array(data)
            }
        }
        return files
    }

    /// What every process must share besides what the trainer checks itself: the build, the command line
    /// and the contents of every file it names.
    /// The run folder (`--out`) is left out: only process 0 need see it.
    static func identity(arguments: [String]) -> [(what: String, bytes: [UInt8])] {
        var arguments = arguments
        if let out = arguments.firstIndex(of: "--out"), out + 1 < arguments.count { arguments.removeSubrange(out...(out + 1)) }
        arguments.removeAll { $0.hasPrefix("--out=") }
        var parts: [(what: String, bytes: [UInt8])] = []
        if let build = FileManager.default.contents(atPath: "/proc/self/exe") ?? FileManager.default.contents(atPath: CommandLine.arguments[0]) {
            parts.append(("the build of recurrent", Array(build)))
        }
        parts.append(("the command line", Array(arguments.joined(separator: "\u{0}").utf8)))
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else { continue }
            if !isDirectory.boolValue, let data = FileManager.default.contents(atPath: argument) {
                parts.append(("the file \(argument)", Array(data)))
            } else if isDirectory.boolValue {
                for name in ((try? FileManager.default.subpathsOfDirectory(atPath: argument)) ?? []).sorted() {
                    let path = (argument as NSString).appendingPathComponent(name)
                    if let data = FileManager.default.contents(atPath: path) { parts.append(("the file \(path)", Array(data))) }
                }
            }
        }
        return parts
    }

    /// Ends MPI after a run every process finished or stopped together.
    static func finish() {
        (replicas?.group as? MPIProcessGroup)?.finalize()
    }

    /// Removes the scratch folder of a process other than 0 (at exit, whatever the outcome).
    static func removeScratch() {
        if let scratch, rank > 0 { try? FileManager.default.removeItem(at: scratch) }
    }
}
