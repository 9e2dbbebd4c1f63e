import Foundation

extension S3Store {
    func url(for key: String?, query: String) -> String {
        let path = key.map { "/" + Self.encode(objectKey($0), keepSlash: true) } ?? "/"
        let q = query.isEmpty ? "" : "?" + query
        if let endpoint = configuration.endpoint {
            if configuration.pathStyle { return "\(endpoint)/\(bucket)\(key == nil ? "" : path)\(q)" }
            let scheme = endpoint.hasPrefix("http://") ? "http://" : "https://"
            return "\(scheme)\(bucket).\(endpoint.dropFirst(scheme.count))\(path)\(q)"
        }
        if configuration.pathStyle { return "https://s3.\(configuration.region).amazonaws.com/\(bucket)\(key == nil ? "" : path)\(q)" }
        return "https://\(bucket).s3.\(configuration.region).amazonaws.com\(path)\(q)"
    }

    /// One request with retries. Transient failures back off 100 ms, 200 ms, 400 ms, …
    /// (capped at 5 s, with jitter) until `maxAttempts`; then the last failure is reported.
    /// `damaged` looks at an answer that is otherwise taken and says what is wrong with it
    /// (a listing page that does not parse, a 206 of another range): such an answer is
    /// retried like a transient failure.
    /// `maxResponseBytes`: object reads allow an object's bytes; every other answer (a
    /// listing page, an error document) is small.
    func send(_ method: String, key: String?, query: String = "", headers: [String] = [], body: [UInt8]? = nil,
              maxResponseBytes: Int = StorageLimits.answerBytes,
              damaged: (HTTPResponse) -> String? = { _ in nil }) throws -> HTTPResponse {
        var request = HTTPRequest(method: method, url: url(for: key, query: query), headers: headers, body: body,
                                  maxResponseBytes: maxResponseBytes)
        request.headers.append("x-amz-content-sha256: UNSIGNED-PAYLOAD")
        if let token = configuration.credentials?.sessionToken { request.headers.append("x-amz-security-token: \(token)") }
        var lastProblem = ""
        for attempt in 0..<maxAttempts {
            if attempt > 0 {
                let backoff = min(5.0, 0.1 * pow(2, Double(attempt - 1)))
                Thread.sleep(forTimeInterval: backoff * Double.random(in: 0.5...1.0))
            }
            do {
                let response = try client.perform(request)
                // (The body of a 2xx answer is an object's bytes, not an error document.)
                if [500, 502, 503, 504].contains(response.status) || (response.status >= 300 && Self.errorCode(response.body) == "SlowDown") {
                    lastProblem = Self.summary(response)
                    continue
                }
                if let problem = damaged(response) {
                    lastProblem = problem
                    continue
                }
                return response
            } catch let e as TransportError {
                lastProblem = e.message
            } catch let e as AnswerTooLarge {
                throw StorageError.failed(key: key.map(describe) ?? "s3://\(bucket)/\(prefix)",
                                          reason: "\(method) answered with more than \(e.limit) bytes; refused")
            }
        }
        let what = key.map(describe) ?? "s3://\(bucket)/\(prefix)"
        throw StorageError.failed(key: what, reason: "\(method) failed after \(maxAttempts) attempts: \(lastProblem)")
    }

    func failure(_ r: HTTPResponse, key: String) -> StorageError {
        var reason = Self.summary(r)
        if RegionHint.isWrongRegion(r) {
            return .failed(key: describe(key), reason: RegionHint.reason(r, bucket: bucket, configured: configuration.region))
        }
        switch Self.errorCode(r.body) ?? "" {
        case "NoSuchBucket": reason = "bucket '\(bucket)' does not exist (\(reason))"
        case "InvalidAccessKeyId", "SignatureDoesNotMatch": reason = "the credentials were refused (\(reason))"
        default: if r.status == 403 { reason = "access denied (\(reason))" }
        }
        return .failed(key: describe(key), reason: reason)
    }

    static func summary(_ r: HTTPResponse) -> String {
        let code = errorCode(r.body).map { " \($0)" } ?? ""
        return "HTTP \(r.status)\(code)"
    }

    /// The `<Code>` of an S3 XML error body.
    static func errorCode(_ body: [UInt8]) -> String? {
        guard !body.isEmpty, let text = String(bytes: body.prefix(4096), encoding: .utf8),
              let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>", range: start.upperBound..<text.endIndex) else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }

    /// RFC 3986 percent-encoding, as SigV4 canonicalises paths and query values.
    static func encode(_ s: String, keepSlash: Bool) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        if keepSlash { allowed.insert("/") }
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
