// Screenshots of Label Studio's labeling view for docs/annotation.md, in headless Chromium
// (Debian's /usr/bin/chromium) through playwright-core from test/devices/webxr/node_modules.
//   node screenshot_label_studio.mjs URL EMAIL PASSWORD PROJECT TASK OUT_PREFIX
// Writes OUT_PREFIX-task.png (the task with its predictions) and OUT_PREFIX-region.png (a
// timeline region selected).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../devices/webxr/package.json"));
const { chromium } = require("playwright-core");

const [url, email, password, project, task, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
await page.goto(`${url}/user/login/`);
await page.fill('input[name="email"]', email);
await page.fill('input[name="password"]', password);
await Promise.all([page.waitForNavigation(), page.click('button[type="submit"], input[type="submit"]')]);
await page.goto(`${url}/projects/${project}/data?task=${task}`);
await page.waitForSelector("video", { state: "attached", timeout: 60000 }).catch(() => {});
await page.waitForTimeout(4000);
await page.evaluate(() => {
  const v = document.querySelector("video");
  if (v) v.currentTime = 4.0;
});
await page.waitForTimeout(1500);
await page.screenshot({ path: `${out}-task.png`, fullPage: true });
const region = page.locator('[class*="region"], [class*="Region"]').first();
if (await region.count()) {
  await region.click({ timeout: 5000 }).catch(() => {});
  await page.waitForTimeout(1000);
}
await page.screenshot({ path: `${out}-region.png`, fullPage: true });
await browser.close();
