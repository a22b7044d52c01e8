// Drives the vr_bridge page in headless Chromium with the IWER Meta Quest 3 emulator:
// enters VR, then moves the emulated right hand (or right controller) through the phases given
// as JSON in argv[3], printing one JSON line when each phase's hold starts ("hold") and one
// when it ends ("phase"), each with "t", the wall time [s] it was printed (the test reads the
// lines on a thread that a busy machine can delay, so the events carry their own times).
// A phase: {"name", "position": [x, y, z] (WebXR local-floor, m), "move_s", "hold_s",
//   optional "pose" (hand pose id, e.g. "pinch"), "input": "hand" | "controller" (switches
//   the emulated input mode and what moves), "buttons": {"trigger": 1, ...},
//   "axes": {"thumbstick": [x, y]}}.
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
const MIN_HOLD_FRAMES = 15;
const MAX_EXTRA_HOLD_MS = 20000;
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
    const input = phase.input || 'hand';
    await page.evaluate(([mode, buttons, axes]) => {
      const device = window.xrDevice;
      if (device.primaryInputMode !== mode) device.primaryInputMode = mode;
      const controller = device.controllers.right;
      for (const [id, value] of Object.entries(buttons)) controller.updateButtonValue(id, value);
      for (const [id, [x, y]] of Object.entries(axes)) controller.updateAxes(id, x, y);
    }, [input, phase.buttons || {}, phase.axes || {}]);
    const steps = Math.max(1, Math.round(phase.move_s * 30));
    const start = await page.evaluate((mode) => {
      const tracked = mode === 'hand' ? window.xrDevice.hands.right : window.xrDevice.controllers.right;
      const p = tracked.position;
      return [p.x, p.y, p.z];
    }, input);
    for (let i = 1; i <= steps; i++) {
      const f = i / steps;
      const target = start.map((v, k) => v + f * (phase.position[k] - v));
      await page.evaluate(([x, y, z, poseId, mode]) => {
        const device = window.xrDevice;
        const tracked = mode === 'hand' ? device.hands.right : device.controllers.right;
        tracked.position.set(x, y, z);
        if (poseId && mode === 'hand') tracked.poseId = poseId;
      }, [...target, phase.pose || '', input]);
      await sleep(1000 / 30);
    }
    // Hold: at least hold_s, and until the page has sent MIN_HOLD_FRAMES frames at this pose
    // (on a loaded machine headless Chromium can stall rendering for a while).
    const framesAtHold = await page.evaluate(() => window.bridgeStatus.framesSent);
    console.log(JSON.stringify({ event: 'hold', phase: phase.name, t: Date.now() / 1000 }));
    await sleep(phase.hold_s * 1000);
    const holdDeadline = Date.now() + MAX_EXTRA_HOLD_MS;
    while (Date.now() < holdDeadline
           && (await page.evaluate(() => window.bridgeStatus.framesSent)) - framesAtHold < MIN_HOLD_FRAMES) {
      await sleep(50);
    }
    const status = await page.evaluate(() => window.bridgeStatus);
    console.log(JSON.stringify({ event: 'phase', phase: phase.name, t: Date.now() / 1000,
      position: phase.position,
      pose: phase.pose || '', framesSent: status.framesSent, cameraFrames: status.cameraFrames }));
  }
} finally {
  await context.close();
}
