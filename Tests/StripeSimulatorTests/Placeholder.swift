import StripeSimulator
import Testing

@Test func simulatorIsMountedUnderSimStripe() {
    #expect(StripeSimulatorInfo.embeddedBasePath == "/sim/stripe")
}
