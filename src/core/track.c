/* track: see track.h. */
#include "track.h"

bool track_result(struct track_state *s, bool ok, uint8_t fall, uint8_t rise)
{
	s->runs++;
	if (!ok)
		s->failed++;
	if (ok != s->failing) { /* as it is: nothing to count toward a turn */
		s->in_row = 0;
		return false;
	}
	uint8_t need = s->failing ? rise : fall;
	if (++s->in_row < (need ? need : 1))
		return false;
	s->failing = !s->failing;
	s->in_row = 0;
	s->turns++;
	return true;
}
