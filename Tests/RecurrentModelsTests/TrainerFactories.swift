import Foundation
import RecurrentData
import RecurrentModels
import RecurrentNN
@testable import RecurrentTraining

// Trainers of every task at test sizes: the task's default options with the schedule, batch and seed a
// test names, then whatever `configure` changes. `seed` seeds the model; `dataSeed` the run's streams (data order, dropout).

func options(_ defaults: TrainingOptions, _ schedule: TrainingSchedule, batch: Int, seed: UInt64 = 1,
             configure: (inout TrainingOptions) -> Void = { _ in }) -> TrainingOptions {
    var options = defaults
    options.schedule = schedule
    options.batch = batch
    options.seed = seed
    configure(&options)
    return options
}

func languageModelTrainer(_ config: LanguageModelConfig, corpus: TextCorpus, seed: UInt64, dataSeed: UInt64 = 1, steps: Int, evaluateEvery: Int, batch: Int,
                          seqLen: Int, evalCharacters: Int, out: URL,
                          configure: (inout TrainingOptions) -> Void = { _ in }) throws -> Trainer<LanguageModelTask> {
    let task = try LanguageModelTask(model: LanguageModel(config, seed: seed), corpus: corpus,
                                     settings: .init(seqLen: seqLen, evalCharacters: evalCharacters), evaluationStreams: batch)
    return Trainer(task: task, options: options(LanguageModelTask.defaultOptions, .steps(steps, evaluateEvery: evaluateEvery), batch: batch,
                                                seed: dataSeed, configure: configure), folder: out)
}

func classifierTrainer(_ config: SequenceClassifierConfig, data: SentenceClassificationData, seed: UInt64, dataSeed: UInt64 = 1, epochs: Int, batch: Int, out: URL,
                       configure: (inout TrainingOptions) -> Void = { _ in }) throws -> Trainer<ClassificationTask> {
    let task = try ClassificationTask(model: SequenceClassifier(config, seed: seed), data: data)
    return Trainer(task: task, options: options(ClassificationTask.defaultOptions, .epochs(epochs), batch: batch, seed: dataSeed, configure: configure),
                   folder: out)
}

func taggerTrainer(_ config: SequenceTaggerConfig, data: TaggingDataset, vocabularies: TaggingVocabularies, seed: UInt64, dataSeed: UInt64 = 1, epochs: Int, batch: Int,
                   out: URL, settings: TaggingTask.Settings = .init(),
                   configure: (inout TrainingOptions) -> Void = { _ in }) throws -> Trainer<TaggingTask> {
    let task = try TaggingTask(model: SequenceTagger(config, seed: seed), data: data, vocabularies: vocabularies, settings: settings,
                               evaluationBatch: max(batch, 64))
    return Trainer(task: task, options: options(TaggingTask.defaultOptions, .epochs(epochs), batch: batch, seed: dataSeed, configure: configure),
                   folder: out)
}

func forecastTrainer(_ config: ForecasterConfig, data: ForecastDataset, seed: UInt64, dataSeed: UInt64 = 1, epochs: Int, batch: Int, out: URL,
                     settings: ForecastTask.Settings = .init(), labels: [String]? = nil,
                     configure: (inout TrainingOptions) -> Void = { _ in }) throws -> Trainer<ForecastTask> {
    let task = try ForecastTask(model: Forecaster(config, seed: seed), data: data, settings: settings, labels: labels)
    return Trainer(task: task, options: options(ForecastTask.defaultOptions, .epochs(epochs), batch: batch, seed: dataSeed, configure: configure),
                   folder: out)
}

func translationTrainer(_ config: Seq2SeqConfig, corpus: ParallelCorpus, vocabularies: Seq2SeqVocabularies, seed: UInt64, dataSeed: UInt64 = 1, epochs: Int,
                        batch: Int, out: URL, settings: TranslationTask.Settings = .init(), dataDescription: [String: String] = [:],
                        configure: (inout TrainingOptions) -> Void = { _ in }) throws -> Trainer<TranslationTask> {
    let task = try TranslationTask(model: Seq2Seq(config, seed: seed), data: corpus, vocabularies: vocabularies, settings: settings,
                                   dataDescription: dataDescription)
    return Trainer(task: task, options: options(TranslationTask.defaultOptions, .epochs(epochs), batch: batch, seed: dataSeed, configure: configure),
                   folder: out)
}

func memoryTrainer(_ config: MemoryTaskConfig, seed: UInt64, dataSeed: UInt64 = 1, steps: Int, evaluateEvery: Int, batch: Int, validationSize: Int, out: URL,
                   configure: (inout TrainingOptions) -> Void = { _ in }) throws -> Trainer<MemoryTaskTraining> {
    let task = try MemoryTaskTraining(model: MemoryTaskModel(config, seed: seed), settings: .init(validationSize: validationSize), seed: dataSeed)
    return Trainer(task: task, options: options(MemoryTaskTraining.defaultOptions, .steps(steps, evaluateEvery: evaluateEvery), batch: batch,
                                                seed: dataSeed, configure: configure), folder: out)
}
