/// Identical renders in flight run once, keyed by their material (`SingleFlight`).
typealias RenderFlights = SingleFlight<RenderedPicture>

/// A render's answer as the flight hands it to every waiter.
struct RenderedPicture: Sendable {
    var bytes: [UInt8]
    var contentType: String
    /// `subtract=`'s summary and the values' type, for the answer's headers.
    var subtraction: String? = nil
    var dataType: String? = nil
}
