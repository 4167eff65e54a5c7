import Foundation
@testable import RecurrentModels
import RecurrentPresentation
@testable import RecurrentTraining
import XCTest

final class RunLogTests: XCTestCase {
    func testMetricsEventsAndLossCurve() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-runlog-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = try RunLog(folder: folder, columns: ["step", "seconds", "train_loss", "val_loss", "note"], plotted: ["train_loss", "val_loss"]) {
            Data(LineChart(title: $0.title, xLabel: $0.xLabel, yLabel: "loss", series: $0.series).svg().utf8)
        }
        try log.record([100, 1.25, 2.5, 2.25, .nan])
        try log.record([200, 2.5, 1.75, 1.9, 0.5])
        let csv = try String(contentsOf: folder.appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertEqual(csv, "step,seconds,train_loss,val_loss,note\n100,1.25000,2.50000,2.25000,nan\n200,2.50000,1.75000,1.90000,0.5\n")
        let svg = try String(contentsOf: folder.appendingPathComponent("loss_curve.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "one line per plotted column")
        XCTAssertTrue(svg.contains(">val_loss<"))
        let events = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("events.out.tfevents.") }
        XCTAssertEqual(events.count, 1)
        let size = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(events[0]).path)[.size] as! Int
        XCTAssertGreaterThan(size, 100)
    }
}
