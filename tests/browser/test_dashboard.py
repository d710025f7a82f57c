"""Browser tests for the weather & repository dashboard (served by `interchange up` at `/`).

Two kinds of test:

* End-to-end against the real backend and its deterministic simulators. They depend only on
  contract-level facts (shapes, counts, units, messages) and on three simulator facts: Berlin is one
  city (DE), London is several (GB, CA, US), and "Atlantis" is not a city.
* Page-contract tests for failure states the simulators cannot be asked for on demand (429, 503,
  504, 400, stale data, hostile strings). These replace `window.fetch` for matching /api URLs with a
  script injected before the page loads (DevTools `Page.addScriptToEvaluateOnNewDocument`) that
  answers with a problem+json response shaped exactly as openapi/weather-dashboard.yaml says. The
  page, its assets and every other call still come from the real server.

Every wait is explicit (WebDriverWait, at most 10 s); there are no fixed sleeps.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver import ActionChains, Keys
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

Shot = Callable[[str], Path]  # the `screenshot` fixture: screenshot("name.png")
WAIT_S = 10
PROBLEM = "https://interchange.dev/problems/"
DEFAULT_REPOS = ("apple/swift-nio", "swift-server/async-http-client")
NUMBER = re.compile(r"^[\u2212-]?\d+(?:\.\d+)?")
TEMPERATURE = re.compile(r"^[\u2212-]?\d+°[CF]$")


# --------------------------------------------------------------------------------------- helpers


def wait(driver: WebDriver, timeout: float = WAIT_S) -> WebDriverWait:
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def parse_number(text: str) -> float:
    match = NUMBER.match(text.strip())
    assert match, f"not a number: {text!r}"
    return float(match.group(0).replace("\u2212", "-"))


def css(driver: WebDriver | WebElement, selector: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, selector)


def open_dashboard(driver: WebDriver, base_url: str) -> None:
    driver.get(base_url + "/")
    wait(driver).until(lambda d: d.execute_script("return document.documentElement.classList.contains('js-ready')"))


def type_city(driver: WebDriver, text: str) -> WebElement:
    field = driver.find_element(By.ID, "city-input")
    field.clear()
    field.send_keys(text)
    return field


def wait_for_suggestions(driver: WebDriver) -> list[WebElement]:
    wait(driver).until(lambda d: d.find_element(By.ID, "city-input").get_attribute("aria-expanded") == "true")
    listbox = driver.find_element(By.ID, "city-listbox")
    wait(driver).until(EC.visibility_of(listbox))
    options = css(listbox, '[role="option"]')
    assert options, "the suggestion listbox is open but has no options"
    return options


def weather_idle(driver: WebDriver) -> bool:
    return driver.find_element(By.ID, "weather-panel").get_attribute("aria-busy") == "false"


def wait_for_forecast(driver: WebDriver) -> list[WebElement]:
    wait(driver).until(lambda d: weather_idle(d) and len(css(d, "#forecast-chart g.forecast-day")) == 5)
    return css(driver, "#forecast-chart g.forecast-day")


def forecast_values(driver: WebDriver) -> list[tuple[str, float, float]]:
    days = []
    for group in css(driver, "#forecast-chart g.forecast-day"):
        date = group.get_attribute("data-date")
        low = parse_number(group.find_element(By.CSS_SELECTOR, ".forecast-min").text)
        high = parse_number(group.find_element(By.CSS_SELECTOR, ".forecast-max").text)
        days.append((date, low, high))
    return days


def weather_alert(driver: WebDriver) -> WebElement:
    return wait(driver).until(
        lambda d: weather_idle(d) and next(iter(css(d, '#weather-panel [role="alert"]')), False)
    )


def search(driver: WebDriver, city: str) -> None:
    type_city(driver, city)
    driver.find_element(By.ID, "city-submit").click()


def current_temperature(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "current-temperature").text.replace("\n", "")


def repo_card(driver: WebDriver, spec: str) -> WebElement:
    """Waits until the card for owner/name has finished loading and returns it."""
    selector = f'.repo-card[data-repo="{spec}"][aria-busy="false"]'
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))


def console_errors(driver: WebDriver) -> list[str]:
    """Severe console entries, except the network log lines Chromium writes for non-2xx answers
    (the page asks for 300/404/429… on purpose)."""
    errors = []
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if entry.get("level") != "SEVERE":
            continue
        if "Failed to load resource: the server responded with a status of" in message:
            continue
        errors.append(message)
    return errors


def stub_api(driver: WebDriver, rules: list[dict[str, Any]]) -> None:
    """Before the next page load, answer fetches whose path+query matches `rule["match"]` (a JS regex)
    with `rule["status"]`, `rule["headers"]` and `rule["body"]` (JSON-encoded unless a str)."""
    script = """
    (() => {
      const rules = %s;
      const realFetch = window.fetch.bind(window);
      window.__stubbedRequests = [];
      window.fetch = (input, init) => {
        const url = new URL(typeof input === 'string' ? input : input.url, window.location.href);
        const target = url.pathname + url.search;
        for (const rule of rules) {
          if (new RegExp(rule.match).test(target)) {
            window.__stubbedRequests.push(target);
            const body = typeof rule.body === 'string' ? rule.body : JSON.stringify(rule.body);
            return Promise.resolve(new Response(body, { status: rule.status, headers: rule.headers || {} }));
          }
        }
        return realFetch(input, init);
      };
    })();
    """ % json.dumps(rules)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script})


def problem(kind: str, status: int, title: str, **fields: Any) -> dict[str, Any]:
    return {"type": PROBLEM + kind, "title": title, "status": status, **fields}


def problem_rule(match: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "match": match,
        "status": body["status"],
        "headers": {"Content-Type": "application/problem+json", **(headers or {})},
        "body": body,
    }


def json_rule(match: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"match": match, "status": 200, "headers": {"Content-Type": "application/json"}, "body": body}


def weather_body(
    name: str = "Testville", *, units: str = "metric", stale: bool = False, age: int = 0
) -> dict[str, Any]:
    today = dt.date.today()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return {
        "city": {"name": name, "country": "GB", "region": "England", "latitude": 51.5, "longitude": -0.12},
        "units": units,
        "current": {
            "temperature": 11.4, "feelsLike": 9.8, "humidity": 71, "windSpeed": 4.2,
            "condition": {"code": "rain", "description": "light rain"},
            "observedAt": (now - dt.timedelta(minutes=20)).isoformat().replace("+00:00", "Z"),
        },
        "forecast": [
            {"date": (today + dt.timedelta(days=i)).isoformat(), "minimum": 4.0 + i, "maximum": 12.3 + i,
             "precipitationProbability": 10 * i, "condition": {"code": "cloudy", "description": "overcast clouds"}}
            for i in range(5)
        ],
        "source": {"provider": "open-meteo", "simulated": True},
        "freshness": {"stale": stale, "ageSeconds": age,
                      "fetchedAt": (now - dt.timedelta(seconds=age)).isoformat().replace("+00:00", "Z")},
    }


# --------------------------------------------------------------------------- end-to-end (real backend)


def test_page_loads_with_default_repository_cards(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    open_dashboard(driver, base_url)
    assert "Interchange" in driver.title and "Weather" in driver.title
    for landmark in ("header", "main", "footer"):
        assert css(driver, landmark), f"missing <{landmark}> landmark"
    assert len(css(driver, "h1")) == 1

    for spec in DEFAULT_REPOS:
        card = repo_card(driver, spec)
        assert not css(card, '[role="alert"]'), f"{spec}: {card.text}"
        link = card.find_element(By.CSS_SELECTOR, "h3 a")
        assert link.text.lower() == spec.lower()
        assert link.get_attribute("href").startswith(("https://", "http://"))
        stars = card.find_element(By.CSS_SELECTOR, ".repo-stars").text
        assert re.fullmatch(r"\d{1,3}(?:[,.\u202f\u00a0]\d{3})*", stars), f"{spec}: stars {stars!r}"
        for hook in (".repo-forks", ".repo-issues", ".repo-prs"):
            assert re.search(r"\d", card.find_element(By.CSS_SELECTOR, hook).text), hook
        commits = css(card, ".commit-list .commit")
        assert 1 <= len(commits) <= 5
        for commit in commits:
            assert re.fullmatch(r"[0-9a-f]{7}", commit.find_element(By.CSS_SELECTOR, ".commit-oid").text)
    screenshot("dashboard-initial.png")
    assert console_errors(driver) == []


def test_search_berlin_shows_conditions_and_forecast(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    open_dashboard(driver, base_url)
    type_city(driver, "Berlin")
    options = wait_for_suggestions(driver)
    assert any("Berlin" in option.text for option in options)
    field = driver.find_element(By.ID, "city-input")
    assert field.get_attribute("role") == "combobox"
    assert field.get_attribute("aria-controls") == "city-listbox"

    driver.find_element(By.ID, "city-submit").click()
    days = wait_for_forecast(driver)
    assert len(days) == 5
    values = forecast_values(driver)
    for date, low, high in values:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date), date
        assert low <= high, f"{date}: min {low} > max {high}"
    dates = [date for date, _, _ in values]
    assert dates == sorted(dates) and len(set(dates)) == 5

    assert TEMPERATURE.match(current_temperature(driver)), current_temperature(driver)
    assert driver.find_element(By.ID, "current-temperature-unit").text == "°C"
    assert "Berlin" in driver.find_element(By.ID, "current-location").text
    assert re.search(r"\d+%", driver.find_element(By.ID, "current-humidity").text)
    assert driver.find_element(By.ID, "current-wind").text.endswith("m/s")
    assert driver.find_element(By.ID, "current-condition").text.strip()
    assert driver.find_element(By.ID, "current-observed").get_attribute("datetime")
    chart = driver.find_element(By.ID, "forecast-chart")
    assert chart.get_attribute("role") == "img"
    assert "forecast" in driver.find_element(By.ID, "forecast-chart-title").get_attribute("textContent").lower()
    assert not css(driver, '#weather-panel [role="alert"]')
    # Let the default repository cards finish too, so the screenshot shows the whole dashboard.
    for spec in DEFAULT_REPOS:
        repo_card(driver, spec)
    screenshot("dashboard.png")
    assert console_errors(driver) == []


def test_units_toggle_switches_to_imperial(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    open_dashboard(driver, base_url)
    search(driver, "Berlin")
    wait_for_forecast(driver)
    metric_current = current_temperature(driver)
    metric_forecast = forecast_values(driver)
    assert metric_current.endswith("°C")

    driver.find_element(By.CSS_SELECTOR, 'label[for="units-imperial"]').click()
    wait(driver).until(lambda d: weather_idle(d) and d.find_element(By.ID, "current-temperature-unit").text == "°F")
    wait_for_forecast(driver)
    assert driver.find_element(By.ID, "units-imperial").is_selected()
    assert driver.find_element(By.ID, "forecast-chart").get_attribute("data-units") == "imperial"
    imperial_current = current_temperature(driver)
    imperial_forecast = forecast_values(driver)
    assert TEMPERATURE.match(imperial_current) and imperial_current.endswith("°F")
    assert imperial_current != metric_current
    assert [d for d, _, _ in imperial_forecast] == [d for d, _, _ in metric_forecast]
    assert [(lo, hi) for _, lo, hi in imperial_forecast] != [(lo, hi) for _, lo, hi in metric_forecast]
    for _, low, high in imperial_forecast:
        assert low <= high
    assert driver.find_element(By.ID, "current-wind").text.endswith("mph")
    assert "units=imperial" in driver.current_url
    screenshot("dashboard-imperial.png")

    driver.find_element(By.CSS_SELECTOR, 'label[for="units-metric"]').click()
    wait(driver).until(lambda d: weather_idle(d) and d.find_element(By.ID, "current-temperature-unit").text == "°C")


def test_unknown_city_shows_alert(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    open_dashboard(driver, base_url)
    search(driver, "Atlantis")
    alert = weather_alert(driver)
    assert "We couldn't find a city called \u201CAtlantis\u201D." in alert.text
    assert not driver.find_element(By.ID, "weather-content").is_displayed()
    assert driver.find_element(By.ID, "city-input").get_attribute("aria-invalid") == "true"
    screenshot("dashboard-city-not-found.png")


def test_ambiguous_city_lists_candidates(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    open_dashboard(driver, base_url)
    search(driver, "London")
    alert = weather_alert(driver)
    assert "London" in alert.text
    buttons = wait(driver).until(lambda d: css(d, "#weather-panel .candidates button.candidate"))
    assert len(buttons) >= 2
    countries = {button.get_attribute("data-country") for button in buttons}
    assert {"GB", "CA", "US"} <= countries, countries
    for button in buttons:
        assert button.text.startswith("London")
    screenshot("dashboard-ambiguous.png")

    buttons[0].click()
    wait_for_forecast(driver)
    assert "London" in driver.find_element(By.ID, "current-location").text
    assert not css(driver, '#weather-panel [role="alert"]')
    assert not css(driver, "#weather-panel .candidates")


def test_keyboard_only_search(driver: WebDriver, base_url: str) -> None:
    open_dashboard(driver, base_url)
    keys = ActionChains(driver)

    # Tab from the top of the page to the search field (past the skip link).
    for _ in range(5):
        keys.send_keys(Keys.TAB).perform()
        if driver.switch_to.active_element.get_attribute("id") == "city-input":
            break
    field = driver.switch_to.active_element
    assert field.get_attribute("id") == "city-input"
    assert driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", field) != "none", \
        "keyboard focus must be visible"

    # Escape closes the suggestions.
    ActionChains(driver).send_keys("London").perform()
    wait_for_suggestions(driver)
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    wait(driver).until(lambda d: d.find_element(By.ID, "city-input").get_attribute("aria-expanded") == "false")
    assert not driver.find_element(By.ID, "city-listbox").is_displayed()

    # Choose "Berlin" from the suggestions with the arrow keys and Enter.
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys("Berlin").perform()
    options = wait_for_suggestions(driver)
    ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()
    active_id = field.get_attribute("aria-activedescendant")
    assert active_id == options[0].get_attribute("id")
    assert options[0].get_attribute("aria-selected") == "true"
    assert "Berlin" in options[0].text
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait_for_forecast(driver)
    assert field.get_attribute("aria-expanded") == "false"
    assert "Berlin" in driver.find_element(By.ID, "current-location").text
    assert driver.switch_to.active_element.get_attribute("id") == "city-input"

    # Tab to the units radio group and switch with an arrow key.
    for _ in range(4):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.switch_to.active_element.get_attribute("name") == "units":
            break
    assert driver.switch_to.active_element.get_attribute("id") == "units-metric"
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    wait(driver).until(lambda d: weather_idle(d) and d.find_element(By.ID, "current-temperature-unit").text == "°F")
    assert driver.switch_to.active_element.get_attribute("id") == "units-imperial"


def test_narrow_viewport_has_no_horizontal_scroll(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    # A desktop window cannot be made 320 px wide, so emulate a 320 px viewport (as DevTools does).
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 320, "height": 900, "deviceScaleFactor": 1, "mobile": True}
    )
    open_dashboard(driver, base_url)
    width = driver.execute_script("return window.innerWidth")
    assert width == 320
    search(driver, "Berlin")
    wait_for_forecast(driver)
    for spec in DEFAULT_REPOS:
        repo_card(driver, spec)
    overflow = driver.execute_script("return document.documentElement.scrollWidth")
    assert overflow <= width, f"page is {overflow}px wide in a {width}px viewport"
    screenshot("dashboard-320px.png")


def test_reduced_motion_stops_animations(driver: WebDriver, base_url: str) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]}
    )
    open_dashboard(driver, base_url)
    names = driver.execute_script("""
        const probe = (cls) => {
          const el = document.createElement('span');
          el.className = cls;
          document.body.appendChild(el);
          const name = getComputedStyle(el).animationName;
          el.remove();
          return name;
        };
        return [probe('spinner'), probe('skeleton-line')];
    """)
    assert names == ["none", "none"], names


# ------------------------------------------------------------------ failure states (stubbed /api answers)


def _expected_clock_times(seconds_ahead: int, before: dt.datetime, after: dt.datetime) -> set[str]:
    """HH:MM strings the page may show for `now + seconds_ahead` (the minute may tick meanwhile)."""
    return {
        (before + dt.timedelta(seconds=seconds_ahead)).astimezone().strftime("%H:%M"),
        (after + dt.timedelta(seconds=seconds_ahead)).astimezone().strftime("%H:%M"),
    }


@pytest.mark.parametrize("variant", ["body-retryAfterSeconds", "body-resetAt", "header-Retry-After"])
def test_rate_limited_weather_shows_retry_time(
    driver: WebDriver, base_url: str, screenshot: Shot, variant: str
) -> None:
    fields: dict[str, Any] = {"detail": "open-meteo answered 429.", "upstream": "open-meteo"}
    headers: dict[str, str] = {}
    if variant == "body-retryAfterSeconds":
        fields["retryAfterSeconds"] = 180
        headers["Retry-After"] = "180"
    elif variant == "body-resetAt":
        reset = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=181)
        fields["resetAt"] = reset.isoformat().replace("+00:00", "Z")
    else:
        headers["Retry-After"] = "180"
    body = problem("upstream-rate-limited", 429, "Upstream rate limit reached", **fields)
    stub_api(driver, [problem_rule(r"^/api/weather\?", body, headers)])
    before = dt.datetime.now(dt.timezone.utc)
    open_dashboard(driver, base_url)
    search(driver, "Berlin")
    alert = weather_alert(driver)
    after = dt.datetime.now(dt.timezone.utc)
    match = re.search(r"try again at (\d{2}:\d{2}) \(in (\d+) min\)\.", alert.text)
    assert match, alert.text
    assert alert.text.startswith("The weather service")
    if variant == "body-resetAt":
        # An absolute reset time is shown as itself; a relative one is counted from when the page got it.
        expected = {reset.astimezone().strftime("%H:%M")}
    else:
        expected = _expected_clock_times(180, before, after)
    assert match.group(1) in expected, match.group(1)
    assert match.group(2) == "3"
    assert css(driver, "#weather-panel .alert-actions button"), "a retry button is offered"
    if variant == "body-retryAfterSeconds":
        screenshot("dashboard-rate-limited.png")


@pytest.mark.parametrize(
    ("kind", "status", "expected", "image"),
    [
        ("upstream-unavailable", 503, "The weather service is unavailable right now.",
         "dashboard-upstream-unavailable.png"),
        ("upstream-unavailable", 502, "The weather service is unavailable right now.", None),
        ("upstream-timeout", 504, "The weather service took too long to answer.", "dashboard-timeout.png"),
    ],
)
def test_upstream_failures_show_messages(
    driver: WebDriver, base_url: str, screenshot: Shot, kind: str, status: int, expected: str, image: str | None
) -> None:
    body = problem(kind, status, "Upstream failure", detail="internal detail not shown", upstream="openweathermap")
    stub_api(driver, [problem_rule(r"^/api/weather\?", body)])
    open_dashboard(driver, base_url)
    search(driver, "Berlin")
    alert = weather_alert(driver)
    assert expected in alert.text
    assert driver.find_element(By.ID, "weather-panel").get_attribute("aria-busy") == "false"
    if image:
        screenshot(image)


def test_invalid_parameter_shows_problem_detail(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    detail = "city must be 1-100 characters without control characters."
    body = problem("invalid-parameter", 400, "Invalid parameter", detail=detail, parameter="city")
    stub_api(driver, [problem_rule(r"^/api/weather\?", body)])
    open_dashboard(driver, base_url)
    search(driver, "Berlin")
    assert detail in weather_alert(driver).text
    screenshot("dashboard-invalid-parameter.png")


def test_unknown_problem_type_falls_back_to_detail(driver: WebDriver, base_url: str) -> None:
    body = {"type": "https://example.com/other", "title": "Teapot", "status": 418, "detail": "Short and stout."}
    stub_api(driver, [problem_rule(r"^/api/weather\?", body)])
    open_dashboard(driver, base_url)
    search(driver, "Berlin")
    assert "Short and stout." in weather_alert(driver).text


def test_repository_not_found_and_rate_limited_cards(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    not_found = problem("repository-not-found", 404, "Repository not found",
                        detail="Could not resolve to a Repository with the name 'nobody/nothing'.", upstream="github")
    limited = problem("upstream-rate-limited", 429, "Upstream rate limit reached", upstream="github",
                      retryAfterSeconds=600)
    stub_api(driver, [
        problem_rule(r"^/api/repos/nobody/nothing$", not_found),
        problem_rule(r"^/api/repos/ratelimited/repo$", limited, {"Retry-After": "600"}),
    ])
    open_dashboard(driver, base_url)
    field = driver.find_element(By.ID, "repo-input")
    field.send_keys("nobody/nothing", Keys.ENTER)
    card = repo_card(driver, "nobody/nothing")
    alert = card.find_element(By.CSS_SELECTOR, '[role="alert"]')
    assert "We couldn't find the repository \u201Cnobody/nothing\u201D" in alert.text

    field.send_keys("ratelimited/repo", Keys.ENTER)
    card = repo_card(driver, "ratelimited/repo")
    alert = card.find_element(By.CSS_SELECTOR, '[role="alert"]')
    # The reset time alone when it is today; with its date when it falls tomorrow (within 10 min of midnight).
    assert re.search(r"^GitHub.*try again at (?:[A-Z][a-z]{2} \d{1,2}, \d{4} )?\d{2}:\d{2} \(in 10 min\)\.", alert.text), alert.text

    field.send_keys("not a repo", Keys.ENTER)
    form_alert = wait(driver).until(lambda d: next(iter(css(d, '#repo-form [role="alert"]')), False))
    assert "owner/name" in form_alert.text
    for spec in DEFAULT_REPOS:
        repo_card(driver, spec)
    screenshot("dashboard-repo-errors.png")

    # Removing a card with the keyboard-accessible button.
    css(driver, '.repo-card[data-repo="nobody/nothing"] .repo-remove')[0].click()
    wait(driver).until(lambda d: not css(d, '.repo-card[data-repo="nobody/nothing"]'))


def test_stale_and_simulated_badges(driver: WebDriver, base_url: str, screenshot: Shot) -> None:
    stub_api(driver, [json_rule(r"^/api/weather\?", weather_body("Staleton", stale=True, age=720))])
    open_dashboard(driver, base_url)
    search(driver, "Staleton")
    wait_for_forecast(driver)
    badges = driver.find_element(By.ID, "weather-badges")
    assert badges.find_element(By.CSS_SELECTOR, ".badge-simulated").text == "Simulated data"
    assert badges.find_element(By.CSS_SELECTOR, ".badge-stale").text == "Stale (cached 12 min ago)"
    assert [(lo, hi) for _, lo, hi in forecast_values(driver)] == [(4 + i, 12 + i) for i in range(5)]
    screenshot("dashboard-stale.png")


def test_api_strings_are_rendered_as_text(driver: WebDriver, base_url: str) -> None:
    hostile = '<img src=x id="injected"><script>window.__pwned=1</script>'
    body = weather_body(hostile)
    body["current"]["condition"]["description"] = '<b id="injected-b">bold</b>'
    repo = {
        "nameWithOwner": "evil/<b>repo</b>", "url": "javascript:window.__pwned=1", "description": hostile,
        "stars": 1, "forks": 2, "openIssues": 3, "openPullRequests": 4,
        "primaryLanguage": {"name": "<i>Swift</i>", "color": "red;background:url(x)"},
        "languages": [{"name": "<i>Swift</i>", "color": "#F05138", "percent": 100.0}],
        "recentCommits": [{"oid": "abcdef1", "message": hostile, "author": "<u>x</u>",
                           "committedAt": "2025-03-20T14:41:07Z", "url": "javascript:window.__pwned=1"}],
        "source": {"provider": "github", "simulated": False},
        "freshness": {"stale": False, "ageSeconds": 0, "fetchedAt": "2025-03-20T14:41:07Z"},
    }
    stub_api(driver, [
        json_rule(r"^/api/weather\?", body),
        json_rule(r"^/api/repos/evil/repo$", repo),
    ])
    open_dashboard(driver, base_url)
    search(driver, "Anywhere")
    wait_for_forecast(driver)
    assert hostile in driver.find_element(By.ID, "current-location").text
    driver.find_element(By.ID, "repo-input").send_keys("evil/repo", Keys.ENTER)
    card = repo_card(driver, "evil/repo")
    assert "evil/<b>repo</b>" in card.text
    assert not css(driver, "#injected, #injected-b")
    assert driver.execute_script("return window.__pwned === undefined")
    hrefs = [a.get_attribute("href") or "" for a in css(card, "a")]
    assert not any(href.startswith("javascript:") for href in hrefs), hrefs
