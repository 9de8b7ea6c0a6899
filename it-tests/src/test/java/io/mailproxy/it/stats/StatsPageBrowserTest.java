package io.mailproxy.it.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailproxy.MailProxy;
import io.mailproxy.it.FreePorts;
import io.mailproxy.it.ProxyFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The stats page in Debian's headless Chromium (driven by Selenium through Debian's chromedriver;
 * nothing downloads a browser): it lists every frontend, backend and server; clicking DRAIN on a
 * server changes its status on the page and in the CSV, and new sessions avoid it; without
 * credentials there are no admin controls, and a forged POST is refused.
 */
class StatsPageBrowserTest extends TwoDovecots {

    private WebDriver browser;

    @BeforeEach
    void startBrowser() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        // As the machine's probe starts it: no sandbox as root, and no background traffic to hosts
        // the closed network cannot reach.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1900,700", "--user-data-dir=" + Files.createTempDirectory(dir, "chromium"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @AfterEach
    void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private String url(StatsFixture f, boolean credentials) {
        return "http://" + (credentials ? StatsFixture.USER + ":" + StatsFixture.PASSWORD + "@" : "") + "127.0.0.1:"
                + f.statsPort + "/stats";
    }

    private void screenshot(String name) throws Exception {
        Files.write(Path.of("target", name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    @Test
    void drainFromThePage() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "")) {
            browser.get(url(f, true));
            assertTrue(browser.findElement(By.id("frontend-imap")).isDisplayed(), "the frontend's table");
            assertTrue(browser.findElement(By.id("backend-pool")).isDisplayed(), "the backend's table");
            for (String row : new String[] {"row-imap-FRONTEND", "row-pool-dc1", "row-pool-dc2", "row-pool-BACKEND"}) {
                assertTrue(browser.findElement(By.id(row)).isDisplayed(), row);
            }
            WebElement dc1Row = browser.findElement(By.id("row-pool-dc1"));
            assertTrue(dc1Row.findElement(By.className("status")).getText().endsWith("no check"));
            screenshot("stats-page-before");

            browser.findElement(By.id("check-pool-dc1")).click();
            new Select(browser.findElement(By.id("action-pool"))).selectByValue("drain");
            browser.findElement(By.id("apply-pool")).click();
            new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> d.findElements(By.id("notice")).size() == 1);
            assertTrue(browser.findElement(By.id("notice")).getText().startsWith("DONE"), browser.findElement(By.id("notice")).getText());
            dc1Row = browser.findElement(By.id("row-pool-dc1"));
            assertTrue(dc1Row.findElement(By.className("status")).getText().endsWith("DRAIN"), dc1Row.getText());
            assertEquals("active_draining", dc1Row.getAttribute("class"));
            assertTrue(browser.findElement(By.id("row-pool-dc2")).findElement(By.className("status")).getText()
                    .endsWith("no check"), "dc2 unchanged");
            screenshot("stats-page-drained");

            String csv = f.get("/stats;csv", true).body();
            assertEquals("DRAIN", StatsFixture.csvField(csv, "pool", "dc1", "status"));
            assertEquals("DRAIN", StatsFixture.csvField(csv, "pool", "dc1", "mp_admin_state"));
            for (int i = 0; i < 6; i++) {
                assertEquals("dc2", f.session("127.0.0." + (30 + i)), "new sessions avoid the drained server");
            }
        }
    }

    /** Without credentials nothing is shown, let alone a control; without auth configured, no controls either. */
    @Test
    void noAdminControlsWithoutAuthentication() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "")) {
            browser.get(url(f, false));
            assertTrue(browser.findElements(By.tagName("form")).isEmpty());
            assertTrue(browser.findElements(By.cssSelector("input[type=checkbox]")).isEmpty());
            assertEquals(401, f.get("/stats", false).statusCode());
            // negative control: with them, the controls are there
            browser.get(url(f, true));
            assertFalse(browser.findElements(By.cssSelector("input[type=checkbox]")).isEmpty());
        }
        int stats = FreePorts.next();
        try (MailProxy open = ProxyFixture.startFrom(dir.resolve("open.conf"), """
                mailproxy {
                  frontends { imap { bind = ["127.0.0.1:%d"], protocol = imap, backend = pool } }
                  backends { pool { servers = [{ name = dc1, address = "127.0.0.1:%d" }] } }
                  stats { bind = "127.0.0.1:%d" }
                }
                """.formatted(FreePorts.next(), dc1.ports().imapHaproxy(), stats))) {
            browser.get("http://127.0.0.1:" + stats + "/stats");
            assertTrue(browser.findElement(By.id("row-pool-dc1")).isDisplayed(), "anyone may read on loopback");
            assertTrue(browser.findElements(By.tagName("form")).isEmpty(), "but nobody may act");
            assertTrue(browser.findElements(By.cssSelector("input[type=checkbox]")).isEmpty());
        }
    }

    /**
     * A POST that did not come from the page: without credentials 401; with them but without the
     * page's token (another site making the admin's browser post) 403; the server stays READY.
     * Negative control: the same POST with the token from the page is done.
     */
    @Test
    void forgedPostIsRefused() throws Exception {
        try (StatsFixture f = StatsFixture.start(dir, dc1, dc2, "")) {
            String form = "b=pool&s=dc1&action=maint";
            assertEquals(401, post(f, form, false).statusCode());
            assertEquals(403, post(f, form, true).statusCode());
            assertEquals(403, post(f, form + "&token=0123456789abcdef0123456789abcdef", true).statusCode());
            assertEquals("no check", StatsFixture.csvField(f.get("/stats;csv", true).body(), "pool", "dc1", "status"));
            Matcher token = Pattern.compile("name=\"token\" value=\"([0-9a-f]+)\"").matcher(f.get("/stats", true).body());
            assertTrue(token.find());
            HttpResponse<String> done = post(f, form + "&token=" + token.group(1), true);
            assertEquals(303, done.statusCode());
            assertEquals("MAINT", StatsFixture.csvField(f.get("/stats;csv", true).body(), "pool", "dc1", "status"));
        }
    }

    private static HttpResponse<String> post(StatsFixture f, String form, boolean credentials) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.statsPort + "/stats"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (credentials) {
            r.header("Authorization", StatsFixture.basic());
        }
        return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }
}
