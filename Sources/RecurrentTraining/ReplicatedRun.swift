import Foundation
import RecurrentIO
import RecurrentModels
import RecurrentTensor

// What a data-parallel run adds to the loop at its start and at its checkpoints: agreeing on the job,
// each replica's own random streams, and reading the run folder through replica 0.

extension Trainer {
    /// Throws `TrainingError.replicasDisagree` on every replica unless all run the same job: replica 0
    /// sends a hash of each part of it (options, settings, model, vocabulary, data size and the caller's
    /// `identity`), every replica compares, and the differences are summed so that all fail alike.
    func requireAgreement(_ replicas: any TrainingReplicas) throws {
        var parts = identity
        func add(_ what: String, _ text: String) { parts.append((what, Array(text.utf8))) }
        add("the training options", (try? RunState.json(options)) ?? "")
        add("the task's settings", (try? RunState.json(task.settings)) ?? "")
        add("the model configuration", task.configJSON)
        add("the vocabulary", (task.vocabulary ?? []).joined(separator: "\n"))
        add("the number of training examples", task.epochSize.map(String.init) ?? "drawn afresh")
        let mine = parts.map { (what: $0.what, hash: String(fingerprint($0.bytes), radix: 16)) }
        let reference = try replicas.broadcast(Array(mine.map { "\($0.what)\t\($0.hash)" }.joined(separator: "\n").utf8))
        let expected = String(decoding: reference, as: UTF8.self).split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            return (what: String(fields[0]), hash: String(fields.last ?? ""))
        }
        // One flag per part of replica 0's job, then one per replica.
        var differs = [Double](repeating: 0, count: expected.count + replicas.count)
        for (k, part) in expected.enumerated() where !mine.contains(where: { $0.what == part.what && $0.hash == part.hash }) {
            differs[k] = 1
            differs[expected.count + replicas.rank] = 1
        }
        if mine.count != expected.count { differs[expected.count + replicas.rank] = 1 }
        let total = try replicas.sum(differs)
        let ranks = (0..<replicas.count).filter { total[expected.count + $0] > 0 }
        guard !ranks.isEmpty else { return }
        var what = expected.indices.filter { total[$0] > 0 }.map { expected[$0].what }
        if what.isEmpty { what = ["the files named on the command line"] }
        let who = ranks.count == 1 ? "process \(ranks[0]) differs" : "processes \(ranks.map(String.init).joined(separator: ", ")) differ"
        throw TrainingError.replicasDisagree("\(who) from process 0 in \(what.joined(separator: ", ")); start every process with the same command, data and build")
    }

    /// A replica's random streams (the task's, and the one its forward passes draw from), seeded from the
    /// run's seed and the replica's rank; replica 0 keeps the task's own, as a single process does.
    func seedReplicaStreams(_ replicas: any TrainingReplicas) {
        if replicas.rank > 0 {
            var streams = task.streams
            for name in streams.keys { streams[name] = RandomGenerator(seed: streamSeed(name, replicas.rank)) }
            task.streams = streams
        }
        sampling = RandomGenerator(seed: streamSeed("sampling", replicas.rank))
    }

    private func streamSeed(_ name: String, _ rank: Int) -> UInt64 {
        fingerprint(Array("\(options.seed)/\(rank)/\(name)".utf8))
    }

    /// The checkpoint key of replica `rank`'s stream `name` (replica 0's are named as a single process's).
    private static func streamKey(_ name: String, rank: Int) -> String { rank == 0 ? name : "rank\(rank).\(name)" }

    /// Puts every replica's streams in `state.streams` on replica 0 (each replica calls this when saving).
    func gatherReplicaStreams(_ replicas: any TrainingReplicas) throws {
        var own = task.streams
        own["sampling"] = sampling
        let text = own.keys.sorted().map { "\($0)=\(RunState.words(own[$0]!))" }.joined(separator: "\n")
        let all = try replicas.allgather(Array(text.utf8))
        guard replicas.rank == 0 else { return }
        for (rank, bytes) in all.enumerated() {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                let words = parts.count == 2 ? parts[1].split(separator: ",").compactMap { UInt64($0) } : []
                if let generator = RandomGenerator(state: words) { state.streams[Self.streamKey(String(parts[0]), rank: rank)] = generator }
            }
        }
    }

    /// Reads the run state of a data-parallel checkpoint: this replica's streams, after checking that it
    /// was trained by as many replicas.
    func restoreReplicaStreams(_ replicas: any TrainingReplicas, from checkpoint: Checkpoint) throws {
        let trainedBy = checkpoint.extra["replicas"] ?? "1"
        guard trainedBy == "\(replicas.count)" else {
            throw TrainingError.cannotResume("this run was trained by \(trainedBy) process\(trainedBy == "1" ? "" : "es") and is resumed by \(replicas.count); resume it with as many (each process's data shard and random streams depend on their number)")
        }
        let names = Array(task.streams.keys) + ["sampling"]
        state = try RunState(extra: checkpoint.extra, streamNames: names.map { Self.streamKey($0, rank: replicas.rank) })
        var streams = task.streams
        for name in streams.keys { streams[name] = state.streams[Self.streamKey(name, rank: replicas.rank)] }
        task.streams = streams
        sampling = state.streams[Self.streamKey("sampling", rank: replicas.rank)]!
    }
}

extension RunFolder {
    /// `loadLast`, read by replica 0 and sent to the others (who may not see this folder).
    func loadLast(task: String, configJSON: String, replicas: (any TrainingReplicas)?) throws -> Checkpoint {
        guard let replicas else { return try loadLast(task: task, configJSON: configJSON) }
        return try Self.shared(replicas) { try loadLast(task: task, configJSON: configJSON) }
    }

    /// best.safetensors, read by replica 0 and sent to the others.
    func loadBest(replicas: (any TrainingReplicas)?) throws -> Checkpoint {
        guard let replicas else { return try Checkpoint.load(from: best) }
        return try Self.shared(replicas) { try Checkpoint.load(from: best) }
    }

    /// Replica 0's `read()`, on every replica: its checkpoint's bytes, or its error's message.
    private static func shared(_ replicas: any TrainingReplicas, _ read: () throws -> Checkpoint) throws -> Checkpoint {
        var message: [UInt8] = []
        if replicas.rank == 0 {
            do { message = [1] + Array(try read().encoded()) } catch let error as TrainingError {
                guard case let .cannotResume(reason) = error else { throw error }
                message = [0] + Array(reason.utf8)
            } catch {
                message = [0] + Array("\(error)".utf8)
            }
        }
        let received = try replicas.broadcast(message)
        guard received.first == 1 else { throw TrainingError.cannotResume(String(decoding: received.dropFirst(), as: UTF8.self)) }
        return try Checkpoint.decode(Data(received.dropFirst()))
    }
}

/// FNV-1a, 64 bits: enough to tell two processes' jobs apart (not a defence against forgery).
func fingerprint(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return hash
}
