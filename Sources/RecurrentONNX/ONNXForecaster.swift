import Foundation
import RecurrentModels
import RecurrentNN

extension Forecaster {
    /// The forecaster as an ONNX graph of `lastStep`: the H normalised values after a window.
    ///
    ///     inputs   window    float (steps, batch, C)   normalised features: target first, then the covariates,
    ///                                                  each (x − mean) / std with the values in the metadata
    ///     outputs  forecast  float (batch, horizon)    normalised forecasts (x · std + mean gives the target's
    ///                                                  scale; `target` in the metadata says whether they are
    ///                                                  levels or differences)
    ///
    /// Both strategies are exported: direct (a head on the last step) and encoder–decoder (the last output
    /// repeated `horizon` times into the decoder network).
    /// - Throws: `ONNXExportError.unsupported` for a Jordan network.
    public func onnxModel() throws -> Onnx_ModelProto {
        let builder = ONNXGraphBuilder(name: "forecast")
        let K = config.steps
        let window = builder.input("window", .float, ["steps", "batch", .fixed(config.inputCount)])
        let encoded = try builder.recurrent(rnn, window, lengths: nil, h0: nil, c0: nil, name: "rnn").output    // (W, B, Hd)
        let last = builder.op("Gather", encoded, builder.constant(int64: [-1], shape: []), attributes: [.int("axis", 0)]) // (B, Hd)
        let forecast: ONNXValue
        switch config.forecastStrategy {
        case .direct:
            forecast = builder.linear(head, last, name: "head")                                                    // (B, K)
        case .encoderDecoder:
            let repeated = builder.op("Expand", builder.unsqueeze(last, axes: [0]),
                                      builder.concat([builder.constant(int64: [Int64(K)]), builder.op("Shape", last)], axis: 0)) // (K, B, Hd)
            let decoded = try builder.recurrent(decoder!, repeated, lengths: nil, h0: nil, c0: nil, name: "decoder").output  // (K, B, Hd)
            let y = builder.linear(head, decoded, name: "head")                                                    // (K, B, 1)
            forecast = builder.transpose(builder.squeeze(y, axes: [2]), [1, 0])                                    // (B, K)
        }
        builder.output(forecast, name: "forecast", .float, ["batch", .fixed(K)])
        var metadata = ["task": "forecast", "cell": config.cell.rawValue, "target": config.target.rawValue,
                        "strategy": config.forecastStrategy.rawValue, "mean": "\(config.mean)", "std": "\(config.std)",
                        "window": "\(config.window)", "horizon": "\(K)"]
        if let covariates = config.covariates {
            metadata["covariates"] = jsonArray(covariates)
            metadata["covariate_means"] = jsonArray(config.covariateScalers.map { "\($0.mean)" })
            metadata["covariate_stds"] = jsonArray(config.covariateScalers.map { "\($0.std)" })
        }
        return builder.model(docString: "Recurrent forecaster: the normalised next values after a window.", metadata: metadata)
    }
}
