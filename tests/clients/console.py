"""The console of `cts serve` in a real browser: Debian's Chromium, headless, through
chromedriver and Selenium, as a person would use it. Prints one JSON line per step
({"call": name, ...}); tests/it/console.rs checks them against the API and `cts sql`.

env: CTS_URL (the server), CTS_TOKEN (an API token), CTS_ALICE_PASSWORD, CTS_SHOTS (a folder for
screenshots, optional), CTS_DOWNLOADS (a folder for downloads), CTS_CHROMIUM, CTS_CHROMEDRIVER.
"""
import json
import os
import sys
import tempfile
import time
from urllib.parse import quote

from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

URL = os.environ["CTS_URL"]
TOKEN = os.environ["CTS_TOKEN"]
SHOTS = os.environ.get("CTS_SHOTS")
DOWNLOADS = os.environ["CTS_DOWNLOADS"]
XSS = os.environ["CTS_XSS"]


def say(call, **fields):
    print(json.dumps({"call": call, **fields}), flush=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CTS_CHROMIUM", "/usr/bin/chromium")
    # As the machine's notes say: headless, no sandbox as root, and no background traffic
    # (nothing but 127.0.0.1 is reached).
    for arg in [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1400,1000",
        f"--user-data-dir={tempfile.mkdtemp(prefix='cts-chromium-')}",
    ]:
        options.add_argument(arg)
    service = Service(executable_path=os.environ.get("CTS_CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    # An element a step looks for may come with the next page: wait for it, up to 5 s.
    driver.implicitly_wait(5)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": DOWNLOADS}
    )
    return driver


def shot(driver, name):
    if SHOTS:
        driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def row_ids(driver):
    return [r.get_attribute("data-trace-id") for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-trace-id]")]


def replaced(old):
    """A wait condition: the element `old` is no longer in the page (the page was replaced).
    Chromedriver reports a node of a replaced page as stale, or, caught mid-replacement, as an
    'unknown error' that it does not belong to the document: both mean it is gone."""
    def check(_driver):
        try:
            old.is_enabled()
            return False
        except (StaleElementReferenceException, WebDriverException):
            return True
    return check


def go(driver, by, what):
    """Click a link or a form's button, and wait until the next page has replaced this one. The
    page being clicked may itself still be settling (just redirected to): find the element
    again if it went stale, a few times."""
    for attempt in range(3):
        page = driver.find_element(By.TAG_NAME, "html")
        try:
            driver.find_element(by, what).click()
            break
        except (StaleElementReferenceException, WebDriverException):
            if attempt == 2:
                raise
            time.sleep(0.5)
    WebDriverWait(driver, 30).until(replaced(page))
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def count_now(driver, by, what):
    """How many elements match on the page as it is (without waiting for one to come)."""
    driver.implicitly_wait(0)
    try:
        return len(driver.find_elements(by, what))
    finally:
        driver.implicitly_wait(5)


def no_alert(driver):
    try:
        driver.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


def wait_for_file(path, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path) and not os.path.exists(path + ".crdownload"):
            return True
        time.sleep(0.1)
    return False


def main():
    driver = browser()
    try:
        # Not signed in: every page leads to the sign-in page.
        driver.get(URL + "/console/traces")
        say("unsigned", url=driver.current_url)
        driver.find_element(By.ID, "token").send_keys("not-the-token")
        go(driver, By.ID, "sign-in-token")
        say("wrong_token", url=driver.current_url, error=driver.find_element(By.ID, "error").text)
        shot(driver, "sign-in")
        driver.find_element(By.ID, "token").send_keys(TOKEN)
        go(driver, By.ID, "sign-in-token")
        driver.find_element(By.ID, "filters")  # the trace list has come
        cookie = driver.get_cookie("cts_console") or {}
        say("signed_in", url=driver.current_url, http_only=cookie.get("httpOnly"),
            same_site=cookie.get("sameSite"), path=cookie.get("path"))
        shot(driver, "traces")

        # Filter by operator and rating, 20 per page, and page forward and back.
        driver.find_element(By.ID, "user").send_keys("alice")
        Select(driver.find_element(By.ID, "rating")).select_by_value("warning")
        Select(driver.find_element(By.ID, "limit")).select_by_value("20")
        go(driver, By.ID, "search")
        first = row_ids(driver)
        search_url = driver.current_url
        go(driver, By.ID, "older")
        second = row_ids(driver)
        older_on_last = count_now(driver, By.ID, "older")
        go(driver, By.ID, "newer")
        back = row_ids(driver)
        newer_on_first = count_now(driver, By.ID, "newer")
        # The search is in the URL: opened again (a bookmark, a shared link), the same page.
        driver.get(search_url)
        again = row_ids(driver)
        say("pages", first=first, second=second, back=back, again=again, url=search_url,
            older_on_last=older_on_last, newer_on_first=newer_on_first)

        # The whole search as CSV, downloaded as a person would.
        driver.find_element(By.ID, "download-csv").click()
        path = os.path.join(DOWNLOADS, "traces.csv")
        found = wait_for_file(path)
        say("csv", found=found, text=open(path, encoding="utf-8").read() if found else "")

        # One trace, every column.
        driver.get(search_url)
        go(driver, By.CSS_SELECTOR, "tr[data-trace-id] td.time a")
        say("trace", url=driver.current_url,
            trace_id=driver.find_element(By.ID, "field-trace_id").text,
            request=driver.find_element(By.ID, "field-request").text,
            user=driver.find_element(By.ID, "field-user").text)
        shot(driver, "trace")

        # A trace whose fields are markup: shown as text, nothing runs.
        driver.get(URL + "/console/traces?resource_name=" + quote(XSS))
        cells = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#traces td")]
        scripts = len(driver.find_elements(By.TAG_NAME, "script"))
        injected = driver.execute_script("return window.__xss === undefined ? null : window.__xss")
        say("xss_list", cells=cells, scripts=scripts, injected=injected, no_alert=no_alert(driver))
        go(driver, By.CSS_SELECTOR, "tr[data-trace-id] td.time a")
        say("xss_trace", resource_name=driver.find_element(By.ID, "field-resource_name").text,
            trace_name=driver.find_element(By.ID, "field-trace_name").text,
            scripts=len(driver.find_elements(By.TAG_NAME, "script")),
            injected=driver.execute_script("return window.__xss === undefined ? null : window.__xss"),
            no_alert=no_alert(driver))

        # Charts of the search; a bar leads to its traces.
        driver.get(URL + "/console/charts?user=alice")
        shot(driver, "charts")
        bars = driver.find_elements(By.CSS_SELECTOR, "#chart-services a")
        services = [a.get_dom_attribute("href") for a in bars]
        say("charts", service_links=services,
            time_bars=len(driver.find_elements(By.CSS_SELECTOR, "#chart-time rect")))

        # Trackers: a wrong bucket name is shown on its field; then create, disable, delete.
        driver.get(URL + "/console/trackers/new")
        driver.find_element(By.ID, "tracker_name").send_keys("browser-tracker")
        driver.find_element(By.ID, "data_bucket_name").send_keys("tracked-bucket")
        driver.find_element(By.ID, "bucket_name").send_keys("Bad_Bucket!")
        go(driver, By.ID, "save")
        field_error = driver.find_elements(By.ID, "error-bucket_name")
        say("tracker_invalid", field_error=field_error[0].text if field_error else None)
        shot(driver, "tracker-invalid")
        name = driver.find_element(By.ID, "bucket_name")
        name.clear()
        name.send_keys("trace-bucket")
        driver.find_element(By.ID, "is_obs_created").click()
        go(driver, By.ID, "save")
        status = driver.find_element(By.CSS_SELECTOR, "tr[data-tracker='browser-tracker'] td.status").text
        say("tracker_created", url=driver.current_url, status=status)
        shot(driver, "trackers")
        go(driver, By.CSS_SELECTOR, "tr[data-tracker='browser-tracker'] button.disable")
        status = driver.find_elements(By.CSS_SELECTOR, "tr[data-tracker='browser-tracker'] td.status")
        say("tracker_disabled", url=driver.current_url, status=status[0].text if status else None,
            page=None if status else driver.find_element(By.TAG_NAME, "main").text)
        # A form posted from elsewhere (no CSRF token) is refused.
        driver.execute_script(
            "const f = document.createElement('form'); f.method = 'post';"
            "f.action = '/console/trackers/browser-tracker/delete'; document.body.appendChild(f); f.submit();"
        )
        time.sleep(0.5)
        say("csrf", title=driver.find_element(By.TAG_NAME, "h1").text,
            error=driver.find_element(By.ID, "error").text)
        driver.get(URL + "/console/trackers")
        still = len(driver.find_elements(By.CSS_SELECTOR, "tr[data-tracker='browser-tracker']"))
        go(driver, By.CSS_SELECTOR, "tr[data-tracker='browser-tracker'] button.delete")
        driver.find_element(By.ID, "new-tracker")  # the list has come back
        gone = count_now(driver, By.CSS_SELECTOR, "tr[data-tracker='browser-tracker']")
        say("tracker_deleted", before=still, after=gone)

        # The report pack, downloaded; then a report, run with its defaults.
        driver.get(URL + "/console/reports")
        shot(driver, "reports")
        pack_name = "report-pack-{}-{}.html".format(
            driver.find_element(By.ID, "pack-from").get_attribute("value"),
            driver.find_element(By.ID, "pack-to").get_attribute("value"))
        driver.find_element(By.ID, "pack").click()
        pack_path = os.path.join(DOWNLOADS, pack_name)
        found = wait_for_file(pack_path, 120)
        pack = open(pack_path, encoding="utf-8").read() if found else ""
        say("pack", found=found, title="<h1>Compliance report pack</h1>" in pack,
            sections=pack.count("<section id="))
        go(driver, By.LINK_TEXT, "Failed operations")
        go(driver, By.ID, "run")
        say("report", count=driver.find_element(By.ID, "findings-count").text,
            rows=len(driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr")))
        shot(driver, "report")

        # SQL: a query, and a statement that would change something.
        driver.get(URL + "/console/sql")
        driver.find_element(By.ID, "q").send_keys("SELECT count(*) AS n FROM traces")
        go(driver, By.ID, "run")
        say("sql", cells=[td.text for td in driver.find_elements(By.CSS_SELECTOR, "#result td")])
        shot(driver, "sql")
        q = driver.find_element(By.ID, "q")
        q.clear()
        q.send_keys("CREATE TABLE x AS SELECT 1")
        go(driver, By.ID, "run")
        say("sql_write", error=driver.find_element(By.ID, "error").text)

        # A key-event notification, disabled.
        driver.get(URL + "/console/notifications")
        shot(driver, "notifications")
        row = "tr[data-notification='server_deletions']"
        before = [driver.find_element(By.CSS_SELECTOR, row + " td.status").text,
                  driver.find_element(By.CSS_SELECTOR, row + " td:nth-child(2)").text]
        go(driver, By.CSS_SELECTOR, row + " button.disable")
        say("notification", before=before,
            after=driver.find_element(By.CSS_SELECTOR, row + " td.status").text)

        # Signing out ends the session.
        driver.get(URL + "/console/traces")
        go(driver, By.CSS_SELECTOR, "form[action='/console/sign-out'] button")
        driver.get(URL + "/console/traces")
        say("signed_out", url=driver.current_url)
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
