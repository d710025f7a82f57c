/// A stateful simulator of the Stripe API subset a Checkout integration uses (see docs/stripe-simulator.md).
public enum StripeSimulatorInfo {
    /// Where `interchange up` mounts the simulator.
    public static let embeddedBasePath = "/sim/stripe"
}
