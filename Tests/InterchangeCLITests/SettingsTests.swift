import Foundation
import InterchangeCLI
import InterchangeCore
import Logging
import Testing

@Suite("Settings: flags, environment, config file")
struct SettingsTests {
    func writeConfig(_ text: String, extension ext: String = "yaml") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-\(UUID().uuidString).\(ext)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("defaults apply when nothing is set")
    func defaults() throws {
        let settings = try Settings(sources: ConfigurationSources())
        #expect(settings.port == 8080)
        #expect(settings.host == "127.0.0.1")
        #expect(settings.dataDirectory == "./.interchange")
        #expect(settings.logLevel == .info)
    }

    @Test("a flag beats the environment, which beats the file")
    func precedence() throws {
        let file = try writeConfig("port: 7000\nlogLevel: debug\ndataDir: /tmp/from-file\n")
        let environment = ["INTERCHANGE_PORT": "7001", "INTERCHANGE_LOG_LEVEL": "warning"]
        let onlyFile = try Settings(sources: ConfigurationSources(configFile: file))
        #expect(onlyFile.port == 7000 && onlyFile.logLevel == .debug && onlyFile.dataDirectory == "/tmp/from-file")
        let withEnvironment = try Settings(sources: ConfigurationSources(environment: environment, configFile: file))
        #expect(withEnvironment.port == 7001 && withEnvironment.logLevel == .warning)
        let withFlag = try Settings(sources: ConfigurationSources(flags: ["port": ("7002", "--port")], environment: environment, configFile: file))
        #expect(withFlag.port == 7002)
        #expect(withFlag.dataDirectory == "/tmp/from-file")
    }

    @Test("JSON config files work too")
    func jsonFile() throws {
        let file = try writeConfig(#"{"port": 9001, "host": "0.0.0.0"}"#, extension: "json")
        let settings = try Settings(sources: ConfigurationSources(configFile: file))
        #expect(settings.port == 9001 && settings.host == "0.0.0.0")
    }

    @Test("a bad value names the field and where it came from")
    func badValues() throws {
        #expect {
            try Settings(sources: ConfigurationSources(environment: ["INTERCHANGE_PORT": "abc"]))
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.field == "port" && error?.source == "environment variable INTERCHANGE_PORT" && error?.reason.contains("'abc'") == true
        }
        let file = try writeConfig("port: 99999\n")
        #expect {
            try Settings(sources: ConfigurationSources(configFile: file))
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.field == "port" && error?.source == "config file \(file)"
        }
        #expect {
            try Settings(sources: ConfigurationSources(flags: ["logLevel": ("loud", "--log-level")]))
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.field == "logLevel" && error?.source == "flag --log-level" && error?.reason.contains("trace, debug") == true
        }
    }

    @Test("an unknown key in the file is reported with a suggestion")
    func unknownKey() throws {
        let file = try writeConfig("prot: 8081\n")
        #expect {
            try Settings(sources: ConfigurationSources(configFile: file))
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.field == "prot" && error?.reason.contains("did you mean 'port'?") == true
        }
    }

    @Test("an unreadable or malformed file is reported, naming it")
    func badFiles() throws {
        #expect { try ConfigurationSources(configFile: "/nonexistent/interchange.yaml") } throws: {
            ($0 as? ConfigurationError)?.field == "config"
        }
        let malformed = try writeConfig("port: [1, 2\n")
        #expect { try ConfigurationSources(configFile: malformed) } throws: {
            ($0 as? ConfigurationError)?.reason.contains("not valid YAML") == true
        }
        let list = try writeConfig("- 1\n- 2\n")
        #expect { try ConfigurationSources(configFile: list) } throws: {
            ($0 as? ConfigurationError)?.reason.contains("map of settings") == true
        }
    }

    @Test("the data directory is created, and a file in its place is an error naming dataDir")
    func dataDirectory() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("interchange-\(UUID().uuidString)")
        let settings = try Settings(sources: ConfigurationSources(flags: ["dataDir": (base.appendingPathComponent("a/b").path, "--data-dir")]))
        try settings.prepareDataDirectory()
        #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/b").path))
        let file = try writeConfig("x: 1\n")
        let clash = try Settings(sources: ConfigurationSources(flags: ["dataDir": (file, "--data-dir")]))
        #expect { try clash.prepareDataDirectory() } throws: { ($0 as? ConfigurationError)?.field == "dataDir" }
    }
}
