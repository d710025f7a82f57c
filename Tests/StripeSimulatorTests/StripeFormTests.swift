import StripeSimulator
import Testing

@Suite struct StripeFormTests {
    @Test func nestedObjectsAndIndexedArraysDecodeIntoATree() throws {
        let form = try StripeForm(
            decoding: "mode=payment&line_items[0][price_data][product_data][name]=Blue+mug&line_items[0][quantity]=2"
                + "&line_items[1][price_data][unit_amount]=500&metadata[order_id]=ord_1"
        )
        #expect(form["mode"]?.string == "payment")
        #expect(form["line_items"]?[0]?["price_data"]?["product_data"]?["name"]?.string == "Blue mug")
        #expect(form["line_items"]?[0]?["quantity"]?.string == "2")
        #expect(form["line_items"]?[1]?["price_data"]?["unit_amount"]?.string == "500")
        #expect(form["line_items"]?.list?.count == 2)
        #expect(form["metadata"]?["order_id"]?.string == "ord_1")
        #expect(form.keys == ["mode", "line_items", "metadata"])
    }

    @Test func appendedAndIndexedListsMeanTheSame() throws {
        let appended = try StripeForm(decoding: "expand[]=payment_intent&expand[]=line_items")
        let indexed = try StripeForm(decoding: "expand[0]=payment_intent&expand[1]=line_items")
        #expect(appended["expand"]?.list?.compactMap(\.string) == ["payment_intent", "line_items"])
        #expect(indexed["expand"]?.list?.compactMap(\.string) == ["payment_intent", "line_items"])
    }

    @Test func indexesAreReadInNumericOrderNotArrivalOrder() throws {
        let form = try StripeForm(decoding: "items[10]=c&items[2]=b&items[0]=a")
        #expect(form["items"]?.list?.compactMap(\.string) == ["a", "b", "c"])
    }

    @Test func percentEscapesInKeysAndValuesAreDecodedAndPlusIsASpace() throws {
        let form = try StripeForm(decoding: "metadata%5Bnote%5D=50%25+off&success_url=http%3A%2F%2Fx.test%2F%3Fa%3D1%26b%3D2")
        #expect(form["metadata"]?["note"]?.string == "50% off")
        #expect(form["success_url"]?.string == "http://x.test/?a=1&b=2")
    }

    @Test func aRepeatedKeyKeepsItsLastValue() throws {
        let form = try StripeForm(decoding: "a=1&a=2")
        #expect(form["a"]?.string == "2")
    }

    @Test func aKeyUsedAsBothValueAndObjectIsAnErrorNamingIt() {
        #expect(throws: StripeForm.DecodingError.self) { try StripeForm(decoding: "metadata=x&metadata[k]=v") }
        #expect(throws: StripeForm.DecodingError.self) { try StripeForm(decoding: "metadata[k]=v&metadata=x") }
        do {
            _ = try StripeForm(decoding: "a[b=1")
            Issue.record("unbalanced brackets were accepted")
        } catch {
            #expect(error.key == "a[b")
        }
    }

    @Test func anObjectWithNamedKeysIsNotAList() throws {
        let form = try StripeForm(decoding: "metadata[a]=1&metadata[0]=2")
        #expect(form["metadata"]?.list == nil)
        #expect(form["metadata"]?["a"]?.string == "1")
    }

    @Test func canonicalPairsIgnoreTheOrderParametersWereSentIn() throws {
        let one = try StripeForm(decoding: "b=2&a[y]=1&a[x]=0")
        let other = try StripeForm(decoding: "a[x]=0&a[y]=1&b=2")
        #expect(one.canonicalPairs.map { "\($0.key)=\($0.value)" } == other.canonicalPairs.map { "\($0.key)=\($0.value)" })
        #expect(one.canonicalPairs.map(\.key) == ["a[x]", "a[y]", "b"])
    }

    @Test func emptyPairsAndValuelessKeysAreTolerated() throws {
        let form = try StripeForm(decoding: "&&a&b=")
        #expect(form["a"]?.string == "")
        #expect(form["b"]?.string == "")
    }
}
