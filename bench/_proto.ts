import { compileSchedule } from '/work/main/src/recurrence/index.js';
import rrulePkg from 'rrule';
import { RRuleTemporal } from 'rrule-temporal';
const { RRule } = rrulePkg as any;
const NOW = Date.UTC(2026, 10, 29, 12);
const rules = ['FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0','FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0','FREQ=HOURLY;BYHOUR=8,9,10,11,12,13,14,15,16,17;BYMINUTE=0;BYSECOND=0','FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=2;BYMINUTE=0;BYSECOND=0','FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;BYHOUR=3;BYMINUTE=0;BYSECOND=0','FREQ=MINUTELY;INTERVAL=15'];
for (const r of rules) for (const y of [2025, 2021, 2016]) {
  const st = `${y}-11-29T07:00:00`;
  const s = compileSchedule({ timeZone: 'America/New_York', startDateTime: st, recurrence: ['RRULE:' + r] });
  const ics = `DTSTART;TZID=America/New_York:${st.replace(/[-:]/g, '')}\nRRULE:${r}`;
  let t = performance.now();
  const a = s.next(NOW); const ta = performance.now() - t;
  const rr = new RRule(RRule.parseString(ics), true);
  t = performance.now(); const b = rr.after(new Date(NOW)); const tb = performance.now() - t;
  const rt = new RRuleTemporal({ rruleString: ics });
  t = performance.now(); const c = rt.next(new Date(NOW)); const tc = performance.now() - t;
  console.log(r.slice(0, 20), y, new Date(a!).toISOString(), b?.toISOString(), c && new Date(c.epochMilliseconds).toISOString(), ta.toFixed(2), tb.toFixed(1), tc.toFixed(2));
}
