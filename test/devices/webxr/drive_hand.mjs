// Drives the vr_bridge page in headless Chromium with the IWER Meta Quest 3 emulator:
// enters VR, then moves the emulated right hand through the phases given as JSON in argv[3],
// printing one JSON line per phase ({"phase": name, "position": [x, y, z], "pose": id}).
// Usage: node drive_hand.mjs <page-url> '<phases json>' <user-data-dir>
import { chromium } from 'playwright-core';

const [url, phasesJson, userDataDir] = process.argv.slice(2);
const phases = JSON.parse(phasesJson);
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium', headless: true, args: FLAGS,
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (msg) => console.error(`page: ${msg.text()}`));
  page.on('pageerror', (err) => console.error(`page error: ${err}`));
  await page.goto(url);
  await page.waitForFunction(() => window.xrDevice && window.bridgeStatus.connected, null, { timeout: 20000 });
  await page.click('#enter');
  await page.waitForFunction(() => window.bridgeStatus.session, null, { timeout: 20000 });
  console.log(JSON.stringify({ event: 'session' }));
  for (const phase of phases) {
    const steps = Math.max(1, Math.round(phase.move_s * 30));
    const start = await page.evaluate(() => {
      const p = window.xrDevice.hands.right.position;
      return [p.x, p.y, p.z];
    });
    for (let i = 1; i <= steps; i++) {
      const f = i / steps;
      const target = start.map((v, k) => v + f * (phase.position[k] - v));
      await page.evaluate(([x, y, z, poseId]) => {
        const hand = window.xrDevice.hands.right;
        hand.position.set(x, y, z);
        if (poseId) hand.poseId = poseId;
      }, [...target, phase.pose || '']);
      await sleep(1000 / 30);
    }
    await sleep(phase.hold_s * 1000);
    const status = await page.evaluate(() => window.bridgeStatus);
    console.log(JSON.stringify({ event: 'phase', phase: phase.name, position: phase.position,
      pose: phase.pose || '', framesSent: status.framesSent, cameraFrames: status.cameraFrames }));
  }
} finally {
  await context.close();
}
