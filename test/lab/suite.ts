// Suite helper: a lab running a named scenario for the tests of one describe().
import { after, before } from 'node:test';
import { Lab } from '../../lab/netns.js';
import { loadNamedScenario } from '../../lab/sim/scenario.js';
import { Simulator } from '../../lab/sim/simulator.js';

export interface SimulatedPath {
  readonly lab: Lab;
  /** The running simulator (available inside tests). */
  readonly sim: Simulator;
}

/** Start `scenario` before the suite's tests, remove everything after them. */
export function useSimulatedPath(scenario: string): SimulatedPath {
  const lab = new Lab();
  let sim: Simulator | undefined;
  before(async () => {
    sim = await Simulator.start(lab, loadNamedScenario(scenario));
  });
  after(() => lab.close());
  return {
    lab,
    get sim(): Simulator {
      if (!sim) throw new Error(`the ${scenario} simulator is not running (used outside a test?)`);
      return sim;
    },
  };
}
