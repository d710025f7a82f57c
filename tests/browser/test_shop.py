"""Browser tests for the shop's pages (Sources/Shop/Resources/web, served at /shop/ by `interchange up`).

End to end against the real process: `interchange up` serves the shop and mounts the Stripe simulator at
/sim/stripe (STRIPE_SECRET_KEY is unset), so Checkout goes to the simulator's hosted page, a test card decides
the outcome, the simulator redirects back and delivers signed webhooks to the shop, and the success and cancel
pages follow the order until its status is settled. Nothing is stubbed; only simulator facts from the spec
(docs/stripe-simulator.md) are relied on: the hosted page at /sim/stripe/checkout/pay/<cs_id> has a `card`
field and a "Back / cancel" link to the cancel_url, 4242… succeeds, 4000…0002 is declined (the session stays
open), 4000…3220 settles later or at once on POST /sim/stripe/_sim/payments/settle, POST
/sim/stripe/v1/checkout/sessions/<id>/expire with the default key sk_test_interchange expires a session.

DOM hooks: #product-list .product-card[data-product-id] button.add-to-cart; #cart-lines tr[data-product-id]
with input.quantity-input and .remove-line; #cart-total, #cart-status (role=status), #checkout-button,
#checkout-message [role=alert]; on success/cancel.html #order-status[data-state] (paid, declined, open,
expired, processing, confirming, …), #order-panel[data-polling=active|settled|gave-up], #order-headline,
#order-text, #pay-button, #order-total, #timeline.

Every wait is an explicit WebDriverWait (at most PAY_WAIT_S, for a webhook to land); there are no sleeps.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver import ActionChains, Keys
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_process import run_interchange  # noqa: E402

Shot = Callable[[str], Path]
WAIT_S = 10
# From paying on the hosted page to the order page showing the webhook's effect (delivery is asynchronous).
PAY_WAIT_S = 30
CARD_SUCCEEDS = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_DELAYED = "4000 0000 0000 3220"
CART_KEY = "interchange.shop.cart.v1"
HOSTED_PAGE = re.compile(r"/sim/stripe/checkout/pay/cs_test_\w+")
MONEY = re.compile(r"^\$\d{1,3}(?:,\d{3})*\.\d{2}$")


# --------------------------------------------------------------------------------------- helpers


def wait(driver: WebDriver, timeout: float = WAIT_S) -> WebDriverWait:
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def css(driver: WebDriver | WebElement, selector: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, selector)


def cents(text: str) -> int:
    assert MONEY.match(text), f"not a dollar amount: {text!r}"
    return int(text.replace("$", "").replace(",", "").replace(".", ""))


def open_shop(driver: WebDriver, base_url: str) -> list[WebElement]:
    """Opens /shop/ and waits for the products; returns their cards."""
    driver.get(base_url + "/shop/")
    wait(driver).until(lambda d: d.execute_script("return document.documentElement.classList.contains('js-ready')"))
    wait(driver).until(lambda d: d.find_element(By.ID, "products-panel").get_attribute("aria-busy") == "false")
    cards = css(driver, "#product-list .product-card")
    assert cards, "the catalogue is empty: " + driver.find_element(By.ID, "products-panel").text
    return cards


def add_to_cart(driver: WebDriver, card: WebElement) -> str:
    """Presses a product's "Add to cart"; returns the product id."""
    product_id = card.get_attribute("data-product-id")
    card.find_element(By.CSS_SELECTOR, "button.add-to-cart").click()
    wait(driver).until(lambda d: css(d, f'#cart-lines tr[data-product-id="{product_id}"]'))
    return product_id


def checkout_to_hosted_page(driver: WebDriver) -> None:
    driver.find_element(By.ID, "checkout-button").click()
    wait(driver, PAY_WAIT_S).until(
        lambda d: HOSTED_PAGE.search(d.current_url) or css(d, '#checkout-message [role="alert"]')
    )
    alerts = css(driver, '#checkout-message [role="alert"]')
    assert not alerts, "checkout failed: " + (alerts[0].text if alerts else "")


def pay_on_hosted_page(driver: WebDriver, card: str) -> None:
    """Types the card into the simulator's hosted page and submits its form."""
    assert HOSTED_PAGE.search(driver.current_url), driver.current_url
    field = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, 'input[name="card"]')))
    field.clear()
    field.send_keys(card)
    field.submit()


def wait_for_order_state(driver: WebDriver, page: str, state: str, timeout: float = PAY_WAIT_S) -> WebElement:
    """On success.html / cancel.html, waits until the status badge reaches `state`; fails naming the last one."""
    wait(driver).until(lambda d: f"/shop/{page}.html?order=ord_" in d.current_url)

    def reached(d: WebDriver) -> WebElement | bool:
        badge = d.find_element(By.ID, "order-status")
        return badge if badge.get_attribute("data-state") == state else False

    try:
        return wait(driver, timeout).until(reached)
    except Exception as error:  # noqa: BLE001 - re-raised with what the page showed instead
        panel = driver.find_element(By.ID, "order-panel").text
        raise AssertionError(f"{page} page never reached {state!r}; it shows: {panel!r}") from error


def order_id_from_url(driver: WebDriver) -> str:
    match = re.search(r"[?&]order=(ord_\w+)", driver.current_url)
    assert match, driver.current_url
    return match.group(1)


def get_order(base_url: str, order_id: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/shop/api/orders/{order_id}", timeout=WAIT_S) as response:
        return json.load(response)


def console_errors(driver: WebDriver, allowed: tuple[str, ...] = ()) -> list[str]:
    """Severe console entries (failed loads, CSP violations, uncaught errors) not matching `allowed`."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry.get("level") == "SEVERE" and not any(text in entry.get("message", "") for text in allowed)
    ]


# --------------------------------------------------------------------------------------- tests


def test_buy_with_4242_shows_paid(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    cards = open_shop(driver, base_url)
    assert driver.title.endswith("Interchange")
    for landmark in ("header", "main", "footer", "nav"):
        assert css(driver, landmark), f"missing <{landmark}> landmark"
    assert len(css(driver, "h1")) == 1
    unit = cents(cards[0].find_element(By.CSS_SELECTOR, ".product-price").text)
    product_id = add_to_cart(driver, cards[0])

    # Quantity 3, typed: the line amount and the total follow, and the live region says so.
    quantity = driver.find_element(By.CSS_SELECTOR, f'input.quantity-input[data-product-id="{product_id}"]')
    quantity.send_keys(Keys.CONTROL, "a")
    quantity.send_keys("3", Keys.TAB)
    wait(driver).until(lambda d: cents(d.find_element(By.ID, "cart-total").text) == 3 * unit)
    assert "quantity 3" in driver.find_element(By.ID, "cart-status").get_attribute("textContent")
    stored = json.loads(driver.execute_script(f"return localStorage.getItem('{CART_KEY}')"))
    assert stored["lines"][0]["productId"] == product_id and stored["lines"][0]["quantity"] == 3
    screenshot("shop-cart.png")
    assert console_errors(driver) == [], "the shop page logged errors (a 404, a CSP violation, a script error)"

    checkout_to_hosted_page(driver)
    pay_on_hosted_page(driver, CARD_SUCCEEDS)
    badge = wait_for_order_state(driver, "success", "paid")
    assert badge.text == "Paid"
    # Paid is final: the page stops asking.
    wait(driver).until(lambda d: d.find_element(By.ID, "order-panel").get_attribute("data-polling") == "settled")
    assert "paid" in driver.find_element(By.ID, "order-headline").text
    assert "session_id=cs_test_" in driver.current_url
    assert driver.find_element(By.ID, "order-live").get_attribute("role") == "status"
    assert cents(driver.find_element(By.ID, "order-total").text) == 3 * unit
    assert driver.find_element(By.ID, "order-payment-status").text == "Paid"
    entries = css(driver, "#timeline .timeline-entry")
    assert len(entries) >= 2, "the timeline shows the order's history"
    assert all(entry.find_element(By.CSS_SELECTOR, "time").get_attribute("datetime") for entry in entries)
    assert not driver.find_element(By.ID, "pay-button").is_displayed()
    assert get_order(base_url, order_id_from_url(driver))["status"] == "paid"
    screenshot("shop-paid.png")

    # The paid cart is emptied.
    assert driver.execute_script(f"return localStorage.getItem('{CART_KEY}')") is None
    open_shop(driver, base_url)
    assert driver.find_element(By.ID, "cart-empty").is_displayed()
    assert not driver.find_element(By.ID, "checkout-button").is_enabled()


def test_declined_card_then_try_again(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    cards = open_shop(driver, base_url)
    add_to_cart(driver, cards[-1])
    checkout_to_hosted_page(driver)
    hosted_url = driver.current_url
    pay_on_hosted_page(driver, CARD_DECLINED)

    # The hosted page itself says the card was declined, and stays (the session is still open).
    wait(driver).until(lambda d: "declined" in d.find_element(By.TAG_NAME, "body").text.lower())
    assert HOSTED_PAGE.search(driver.current_url), driver.current_url
    screenshot("shop-hosted-declined.png")

    # Back to the shop the way the hosted page offers (its link to cancel_url).
    back = [a for a in css(driver, "a[href]") if "/shop/cancel.html?order=" in (a.get_attribute("href") or "")]
    assert back, "the simulator's hosted page has no link back to the shop's cancel_url"
    back[0].click()
    badge = wait_for_order_state(driver, "cancel", "declined")
    assert badge.text == "Payment failed"
    wait(driver).until(lambda d: d.find_element(By.ID, "order-panel").get_attribute("data-polling") == "settled")
    assert "declined" in driver.find_element(By.ID, "order-headline").text
    assert "still open and can be paid" in driver.find_element(By.ID, "order-text").text
    order_id = order_id_from_url(driver)
    order = get_order(base_url, order_id)
    assert (order["status"], order["paymentStatus"]) == ("awaiting_payment", "failed")
    pay = driver.find_element(By.ID, "pay-button")
    assert pay.is_displayed() and pay.text == "Try again"
    screenshot("shop-declined.png")

    # "Try again" calls checkout again: back on a hosted page, this time paid.
    pay.click()
    wait(driver, PAY_WAIT_S).until(lambda d: HOSTED_PAGE.search(d.current_url))
    assert driver.current_url == hosted_url, "the open session is reused for the same order"
    pay_on_hosted_page(driver, CARD_SUCCEEDS)
    wait_for_order_state(driver, "success", "paid")
    assert order_id_from_url(driver) == order_id


def test_cancel_then_expired_session_then_try_again(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    cards = open_shop(driver, base_url)
    add_to_cart(driver, cards[0])
    checkout_to_hosted_page(driver)
    first_session = HOSTED_PAGE.search(driver.current_url).group(0).rsplit("/", 1)[1]

    # Leaving the hosted page without paying: the order is still payable.
    driver.find_element(By.LINK_TEXT, "Back / cancel").click()
    badge = wait_for_order_state(driver, "cancel", "open", timeout=WAIT_S)
    assert badge.text == "Not paid"
    assert driver.find_element(By.ID, "pay-button").text == "Continue to payment"

    # The session expires (Stripe's API, as the shop's sweeper or Stripe would): the page, still polling, shows
    # it, and "Try again" opens a new session for the same order.
    request = urllib.request.Request(
        f"{base_url}/sim/stripe/v1/checkout/sessions/{first_session}/expire", data=b"", method="POST",
        headers={"Authorization": "Bearer sk_test_interchange"},
    )
    with urllib.request.urlopen(request, timeout=WAIT_S) as response:
        assert json.load(response)["status"] == "expired"
    badge = wait_for_order_state(driver, "cancel", "expired")
    assert badge.text == "Checkout expired"
    screenshot("shop-expired.png")
    order_id = order_id_from_url(driver)
    driver.find_element(By.ID, "pay-button").click()
    wait(driver, PAY_WAIT_S).until(lambda d: HOSTED_PAGE.search(d.current_url))
    assert first_session not in driver.current_url, "an expired session is not reused"
    pay_on_hosted_page(driver, CARD_SUCCEEDS)
    wait_for_order_state(driver, "success", "paid")
    assert order_id_from_url(driver) == order_id


def test_delayed_payment_is_processing_until_it_settles(driver: WebDriver, base_url: str) -> None:
    cards = open_shop(driver, base_url)
    add_to_cart(driver, cards[0])
    checkout_to_hosted_page(driver)
    pay_on_hosted_page(driver, CARD_DELAYED)
    badge = wait_for_order_state(driver, "success", "processing")
    assert badge.text == "Processing"
    request = urllib.request.Request(f"{base_url}/sim/stripe/_sim/payments/settle", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=WAIT_S) as response:
        assert response.status == 200
    # The page is still polling (bounded backoff) and sees the payment land.
    wait_for_order_state(driver, "success", "paid")


def test_unavailable_product_problem_names_the_line(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    cards = open_shop(driver, base_url)
    real_id = cards[0].get_attribute("data-product-id")
    cart = {"lines": [
        {"productId": real_id, "quantity": 1},
        {"productId": "prod_discontinued", "quantity": 2, "name": "Discontinued lamp"},
    ]}
    driver.execute_script(f"localStorage.setItem('{CART_KEY}', arguments[0])", json.dumps(cart))
    open_shop(driver, base_url)
    row = driver.find_element(By.CSS_SELECTOR, '#cart-lines tr[data-product-id="prod_discontinued"]')
    assert "Discontinued lamp" in row.text and "Not in the catalogue any more" in row.text

    # The server decides (the catalogue can change between loading and ordering): 404 naming lines[1].productId.
    driver.find_element(By.ID, "checkout-button").click()
    alert = wait(driver).until(lambda d: next(iter(css(d, '#checkout-message [role="alert"]')), False))
    assert "\u201CDiscontinued lamp\u201D is no longer available." in alert.text
    assert "lines[1].productId" in alert.text, "the server's detail naming the field is shown"
    assert "has-problem" in row.get_attribute("class")
    assert "/shop/" in driver.current_url and not HOSTED_PAGE.search(driver.current_url)
    screenshot("shop-problem.png")

    # Its action removes the line; the rest of the cart checks out.
    alert.find_element(By.XPATH, ".//button[contains(., 'Remove')]").click()
    wait(driver).until(lambda d: not css(d, '#cart-lines tr[data-product-id="prod_discontinued"]'))
    assert "Removed Discontinued lamp" in driver.find_element(By.ID, "cart-status").get_attribute("textContent")
    assert not css(driver, '#checkout-message [role="alert"]')
    checkout_to_hosted_page(driver)


def test_double_click_places_one_order(driver: WebDriver, base_url: str) -> None:
    # Records every POST to api/orders (with its Idempotency-Key) in sessionStorage, which outlives the
    # redirect to the hosted page (same origin under `interchange up`).
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
      (() => {
        const realFetch = window.fetch.bind(window);
        window.fetch = (input, init = {}) => {
          const url = new URL(typeof input === 'string' ? input : input.url, location.href);
          if ((init.method || 'GET') === 'POST' && url.pathname.endsWith('/shop/api/orders')) {
            const seen = JSON.parse(sessionStorage.getItem('test.orderPosts') || '[]');
            seen.push(new Headers(init.headers).get('Idempotency-Key'));
            sessionStorage.setItem('test.orderPosts', JSON.stringify(seen));
          }
          return realFetch(input, init);
        };
      })();
    """})
    cards = open_shop(driver, base_url)
    add_to_cart(driver, cards[0])
    button = driver.find_element(By.ID, "checkout-button")
    ActionChains(driver).double_click(button).perform()
    wait(driver, PAY_WAIT_S).until(lambda d: HOSTED_PAGE.search(d.current_url))
    posts = json.loads(driver.execute_script("return sessionStorage.getItem('test.orderPosts')") or "[]")
    assert len(posts) == 1, posts
    assert re.fullmatch(r"[0-9a-f-]{36}", posts[0] or ""), posts

    # The browser's Back button, then Checkout again with the same cart: the order already placed is paid,
    # no second one is created, and its open session is reused.
    hosted_url = driver.current_url
    driver.back()
    wait(driver).until(
        lambda d: d.current_url.endswith("/shop/") and d.find_element(By.ID, "checkout-button").is_enabled()
    )
    checkout_to_hosted_page(driver)
    assert driver.current_url == hosted_url
    posts = json.loads(driver.execute_script("return sessionStorage.getItem('test.orderPosts')") or "[]")
    assert len(posts) == 1, posts


def test_keyboard_only_checkout_and_accessible_names(driver: WebDriver, base_url: str) -> None:
    open_shop(driver, base_url)
    # Tab from the top: skip link, cart link, then the first "Add to cart".
    for _ in range(6):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if "add-to-cart" in (driver.switch_to.active_element.get_attribute("class") or ""):
            break
    button = driver.switch_to.active_element
    assert "add-to-cart" in (button.get_attribute("class") or ""), "Tab reaches the first Add to cart button"
    assert driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", button) != "none", \
        "keyboard focus must be visible"
    described = button.find_element(By.XPATH, "./ancestor::li[1]//h3").text
    assert button.get_attribute("textContent") == f"Add to cart: {described}", "the button's name names its product"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    status = driver.find_element(By.ID, "cart-status")
    wait(driver).until(lambda d: status.get_attribute("textContent").startswith(f"Added {described}."))
    assert status.get_attribute("role") == "status"

    # Every quantity field has a label naming its product; Remove buttons name theirs too.
    for field in css(driver, "input.quantity-input"):
        label = driver.find_element(By.CSS_SELECTOR, f'label[for="{field.get_attribute("id")}"]')
        assert label.get_attribute("textContent") == f"Quantity of {described}"
    assert described in css(driver, ".remove-line")[0].get_attribute("textContent")

    # An out-of-range quantity is refused in place, naming the limit.
    field = css(driver, "input.quantity-input")[0]
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("100", Keys.TAB)
    wait(driver).until(lambda d: field.get_attribute("aria-invalid") == "true")
    error = driver.find_element(By.ID, field.get_attribute("aria-describedby"))
    assert "At most 99" in error.text
    assert not driver.find_element(By.ID, "checkout-button").is_enabled()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("2", Keys.TAB)
    wait(driver).until(lambda d: d.find_element(By.ID, "checkout-button").is_enabled())
    assert css(driver, "input.quantity-input")[0].get_attribute("value") == "2"

    # Checkout by keyboard: focus the button, press Enter, arrive on the hosted page.
    driver.execute_script("document.getElementById('checkout-button').focus()")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait(driver, PAY_WAIT_S).until(lambda d: HOSTED_PAGE.search(d.current_url))


CONTRAST_SCRIPT = """
const luminance = (rgb) => {
  const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const parse = (color) => (color.match(/[\\d.]+/g) || []).map(Number);
const background = (el) => {
  for (let node = el; node; node = node.parentElement) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
  }
  return [255, 255, 255];
};
return arguments[0].flatMap((selector) => [...document.querySelectorAll(selector)].slice(0, 3).map((el) => {
  const fg = luminance(parse(getComputedStyle(el).color).slice(0, 3));
  const bg = luminance(background(el));
  return [selector, (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)];
}));
"""


def test_text_contrast_on_the_pages(driver: WebDriver, base_url: str) -> None:
    cards = open_shop(driver, base_url)
    add_to_cart(driver, cards[0])
    selectors = [".product-name", ".product-description", ".product-price", ".hint", ".button-primary",
                 ".button-secondary", ".cart-table th", ".cart-table td", ".site-footer p", ".brand", ".cart-count"]
    ratios = driver.execute_script(CONTRAST_SCRIPT, selectors)
    assert {selector for selector, _ in ratios} >= {".product-name", ".button-primary", ".cart-table td"}
    low = [(selector, round(ratio, 2)) for selector, ratio in ratios if ratio < 4.5]
    assert low == [], f"text below 4.5:1 contrast: {low}"


def test_narrow_viewport_has_no_horizontal_scroll(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 320, "height": 900, "deviceScaleFactor": 1, "mobile": True}
    )
    for card in open_shop(driver, base_url):
        add_to_cart(driver, card)
    width = driver.execute_script("return window.innerWidth")
    assert width == 320
    overflow = driver.execute_script("return document.documentElement.scrollWidth")
    assert overflow <= width, f"the shop is {overflow}px wide in a {width}px viewport"
    screenshot("shop-320px.png")

    # The success page too, with its long session and payment ids in the timeline.
    checkout_to_hosted_page(driver)
    pay_on_hosted_page(driver, CARD_SUCCEEDS)
    wait_for_order_state(driver, "success", "paid")
    overflow = driver.execute_script("return document.documentElement.scrollWidth")
    assert overflow <= width, f"the success page is {overflow}px wide in a {width}px viewport"
    screenshot("shop-success-320px.png")


@pytest.fixture(scope="module")
def serve_shop_url(
    interchange_bin: Path, artifacts_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`interchange serve shop` alone: the shop and the Stripe simulator it brings, at the same paths as under `up`."""
    data_dir = tmp_path_factory.mktemp("interchange-serve-shop")
    with run_interchange(
        interchange_bin,
        ["serve", "shop", "--port", "0", "--data-dir", str(data_dir)],
        artifacts_dir / "browser-serve-shop.log",
    ) as url:
        yield url


def test_pages_work_under_serve_shop(driver: WebDriver, serve_shop_url: str) -> None:
    cards = open_shop(driver, serve_shop_url)
    add_to_cart(driver, cards[0])
    checkout_to_hosted_page(driver)
    pay_on_hosted_page(driver, CARD_SUCCEEDS)
    assert wait_for_order_state(driver, "success", "paid").text == "Paid"
    assert driver.current_url.startswith(serve_shop_url + "/shop/success.html?order=ord_")
