/**
 * Debian's chromium (`apt-get install -y chromium`), headless through playwright-core: `npx playwright
 * install` cannot download here. The flags keep it off the network and the GPU (docs: STACK.md).
 */
import { type Browser, chromium } from 'playwright-core';

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
}
