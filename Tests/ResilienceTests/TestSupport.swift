/// A transient failure for tests.
struct Boom: Error, Equatable {
    var id = 0
}
