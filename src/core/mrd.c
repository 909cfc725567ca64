#include "mrd.h"

#include "be.h"

uint16_t mrd_checksum(const uint8_t *b, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

size_t mrd_advert(uint8_t *buf, size_t cap, uint8_t interval_s, uint16_t query_interval_s,
		  uint16_t robustness)
{
	if (cap < MRD_ADVERT_LEN)
		return 0;
	buf[0] = MRD_TYPE_ADVERT;
	buf[1] = interval_s;
	put16(buf + 2, 0);
	put16(buf + 4, query_interval_s);
	put16(buf + 6, robustness);
	put16(buf + 2, mrd_checksum(buf, MRD_ADVERT_LEN));
	return MRD_ADVERT_LEN;
}

int mrd_parse(const uint8_t *buf, size_t len, struct mrd_msg *out)
{
	if (len < 4 || mrd_checksum(buf, len) != 0)
		return -1;
	out->type = buf[0];
	if (buf[0] == MRD_TYPE_SOLICIT) {
		out->interval_s = 0;
		out->query_interval_s = out->robustness = 0;
		return 0;
	}
	if (buf[0] != MRD_TYPE_ADVERT || len < MRD_ADVERT_LEN)
		return -1;
	out->interval_s = buf[1];
	out->query_interval_s = get16(buf + 4);
	out->robustness = get16(buf + 6);
	return 0;
}
