import Foundation

/// The region a bucket really lives in, as a server says it when asked in the wrong one:
/// `301 PermanentRedirect` (with an `x-amz-bucket-region` header, and an `<Endpoint>` in
/// the body) or `400 AuthorizationHeaderMalformed` (the signature's region is wrong; a
/// `<Region>` in the body). Telling the user which region to set turns a puzzle into a fix.
enum RegionHint {
    /// The region the answer points to, or nil if it names none.
    static func region(in r: HTTPResponse) -> String? {
        if let header = r.headers["x-amz-bucket-region"], isRegionName(header) { return header }
        if let region = MultipartUpload.element("Region", in: r.body), isRegionName(region) { return region }
        // <Endpoint>bucket.s3.eu-west-1.amazonaws.com</Endpoint> or s3-eu-west-1.amazonaws.com
        if let endpoint = MultipartUpload.element("Endpoint", in: r.body) {
            let labels = endpoint.split(separator: ".")
            if let i = labels.lastIndex(where: { $0 == "s3" || $0.hasPrefix("s3-") }) {
                let candidate = labels[i] == "s3" ? (i + 1 < labels.count ? String(labels[i + 1]) : "") : String(labels[i].dropFirst(3))
                if isRegionName(candidate), candidate != "amazonaws" { return candidate }
            }
        }
        return nil
    }

    /// Whether the answer says the request went to the wrong region.
    static func isWrongRegion(_ r: HTTPResponse) -> Bool {
        let code = S3Store.errorCode(r.body)
        // A HEAD answer has no body to carry the code: then the header tells.
        return r.status == 301 || code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed"
            || (r.status == 400 && r.body.isEmpty && r.headers["x-amz-bucket-region"] != nil)
    }

    /// The reason to report for a wrong-region answer about `bucket`, asked in `configured`.
    static func reason(_ r: HTTPResponse, bucket: String, configured: String) -> String {
        let summary = S3Store.summary(r)
        guard let region = region(in: r) else {
            let endpoint = MultipartUpload.element("Endpoint", in: r.body).map { " (\($0))" } ?? ""
            return "bucket '\(bucket)' must be reached through another endpoint\(endpoint) or region than '\(configured)' (\(summary))"
        }
        return "bucket '\(bucket)' is in region '\(region)', not '\(configured)': set AWS_REGION=\(region) (\(summary))"
    }

    /// Letters, digits and dashes only (`eu-west-1`), so nothing else from an answer
    /// reaches the message as a "region".
    private static func isRegionName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 40 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
}
