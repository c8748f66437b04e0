// Stories a and b: the farmer's main story, with and without service workers.

import { test } from 'node:test';
import { useSuite } from './lib/fixture.js';
import { mainStory } from './lib/main-story.js';

const s = useSuite();

test('a. main story: sign up, search 稻飞虱, cart, check out to the village station, confirmed live', { timeout: 180_000 }, async () => {
  await mainStory(s, 'main', { serviceWorkers: 'allow' });
});

test('b. main story with service workers blocked', { timeout: 180_000 }, async () => {
  await mainStory(s, 'main-nosw', { serviceWorkers: 'block' });
});
