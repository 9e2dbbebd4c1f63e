import Testing
@testable import Batch

@Suite struct RunTaskIndexTests {
    @Test func optionWinsOverTheEnvironment() throws {
        #expect(try TaskIndex.resolve(option: 2, environment: ["SLURM_ARRAY_TASK_ID": "1"], tasks: 4) == 2)
    }

    @Test func eachEngineVariableIsRead() throws {
        for (k, name) in TaskIndex.variables.enumerated() {
            #expect(try TaskIndex.resolve(option: nil, environment: [name: String(k)], tasks: 4) == k)
        }
    }

    @Test func slurmComesFirst() throws {
        #expect(try TaskIndex.resolve(option: nil, environment: ["BATCH_TASK_INDEX": "0", "SLURM_ARRAY_TASK_ID": "3"], tasks: 4) == 3)
    }

    @Test func garbageNamesTheVariableAndValue() {
        for bad in ["abc", "", "1.5", "-1x", "٣", " 2 3"] {
            let error = #expect(throws: TaskIndexError.self) {
                try TaskIndex.resolve(option: nil, environment: ["JOB_COMPLETION_INDEX": bad], tasks: 4)
            }
            #expect(error?.description.contains("JOB_COMPLETION_INDEX='\(bad)'") == true)
        }
    }

    @Test func outOfRangeIsRefused() {
        let fromEnv = #expect(throws: TaskIndexError.self) {
            try TaskIndex.resolve(option: nil, environment: ["AWS_BATCH_JOB_ARRAY_INDEX": "4"], tasks: 4)
        }
        #expect(fromEnv?.description.contains("AWS_BATCH_JOB_ARRAY_INDEX=4 is out of range") == true)
        let negative = #expect(throws: TaskIndexError.self) { try TaskIndex.resolve(option: nil, environment: ["BATCH_TASK_INDEX": "-1"], tasks: 4) }
        #expect(negative?.description.contains("BATCH_TASK_INDEX=-1") == true)
        let option = #expect(throws: TaskIndexError.self) { try TaskIndex.resolve(option: 9, environment: [:], tasks: 4) }
        #expect(option?.description.contains("--task 9") == true)
    }

    @Test func noIndexAtAllIsAnError() {
        let error = #expect(throws: TaskIndexError.self) { try TaskIndex.resolve(option: nil, environment: ["HOME": "/"], tasks: 2) }
        #expect(error?.description.contains("--task") == true)
    }
}
