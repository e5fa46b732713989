"""The 999 and 277CA reader on generated files: well-formed ones read back what was written, anything else is
refused with a reason (AckUnreadable), never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.core.errors import BillingError
from billing.edi.acks import Ack277, Ack999, AckUnreadable, read_ack

ISA = "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*CLAIMDESK      *260310*0900*^*00501*000000001*0*T*:~"
STATUSES = st.sampled_from(["A", "E", "R", "M", "W", "X"])
CODES = st.text(alphabet="0123456789I", min_size=1, max_size=3)
SEGMENT_IDS = st.sampled_from(["NM1", "CLM", "SV1", "HI", "REF", "DTP", "N3", "N4", "SBR"])


@st.composite
def files_999(draw):
    transactions = draw(st.lists(st.tuples(st.integers(1, 9999), STATUSES,
                                           st.lists(st.tuples(SEGMENT_IDS, st.integers(1, 99999), CODES,
                                                              st.lists(st.tuples(st.integers(1, 99), CODES),
                                                                       max_size=3)), max_size=4)),
                                 min_size=1, max_size=6, unique_by=lambda t: t[0]))
    group = draw(st.integers(1, 999999999))
    body = ["ST*999*0001*005010X231A1", f"AK1*HC*{group}*005010X222A1"]
    for control, status, errors in transactions:
        body.append(f"AK2*837*{control:04d}*005010X222A1")
        for seg, position, code, elements in errors:
            body.append(f"IK3*{seg}*{position}**{code}")
            body += [f"IK4*{pos}*66*{ecode}*X" for pos, ecode in elements]
        body.append(f"IK5*{status}")
    body += [f"AK9*A*{len(transactions)}*{len(transactions)}*{len(transactions)}", f"SE*{len(body) + 2}*0001"]
    text = ISA + "GS*FA*CH*CD*20260310*0900*1*X*005010X231A1~" + "~".join(body) + "~GE*1*1~IEA*1*000000001~"
    return text, group, transactions


@st.composite
def files_277(draw):
    claims = draw(st.lists(st.tuples(st.from_regex(r"C-\d{6}", fullmatch=True),
                                     st.sampled_from(["A1", "A2", "A3", "A4", "A6", "A7", "A8", "P1", "F1", "ZZ"]),
                                     st.integers(0, 999), st.one_of(st.none(), st.from_regex(r"[A-Z0-9]{5,20}",
                                                                                               fullmatch=True))),
                           min_size=1, max_size=8))
    body = ["ST*277*0001*005010X214", "BHT*0085*08*1*20260310*0900*TH", "HL*1**20*1", "HL*2*1*21*1", "HL*3*2*19*1"]
    for n, (number, category, status, payer_number) in enumerate(claims, start=4):
        body += [f"HL*{n}*3*PT", f"TRN*2*{number}", f"STC*{category}:{status}*20260310*WQ*10"]
        if payer_number:
            body.append(f"REF*1K*{payer_number}")
    trailer = f"~SE*{len(body) + 1}*0001~GE*1*1~IEA*1*000000001~"
    text = ISA + "GS*HN*CH*CD*20260310*0900*1*X*005010X214~" + "~".join(body) + trailer
    return text, claims


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files_999())
def test_a_generated_999_reads_back_what_was_written(generated):
    text, group, transactions = generated
    ack = read_ack(text.encode())
    assert isinstance(ack, Ack999)
    assert ack.groups[0].group_control == str(group)
    read = {t.control: t for t in ack.groups[0].transactions}
    for control, status, errors in transactions:
        found = read[f"{control:04d}"]
        assert found.status == status
        assert [(e.segment_id, e.position, e.code, len(e.elements)) for e in found.errors] == [
            (seg, pos, code, len(elements)) for seg, pos, code, elements in errors]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files_277())
def test_a_generated_277ca_reads_back_what_was_written(generated):
    text, claims = generated
    ack = read_ack(text.encode())
    assert isinstance(ack, Ack277)
    assert [(c.reference, c.statuses[0].category, c.statuses[0].status, c.payer_claim_number) for c in ack.claims] == [
        (number, category, str(status), payer_number) for number, category, status, payer_number in claims]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(files_999().map(lambda g: g[0]), files_277().map(lambda g: g[0])), st.data())
def test_a_damaged_file_is_read_or_refused_with_a_reason_never_a_crash(text, data):
    cut = data.draw(st.integers(0, len(text)))
    noise = data.draw(st.text(alphabet="*~:^AKISTEHLCNR0123456789 \n", max_size=30))
    damaged = text[:cut] + noise + text[cut + data.draw(st.integers(0, 40)):]
    assert _refusal(damaged.encode()) != ""  # read (None) or refused with a reason; anything else raises


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_with_a_reason(data):
    assert _refusal(data) != ""


def _refusal(data: bytes) -> str | None:
    """None when the file reads; the refusal's message (AckUnreadable, NotX12: typed refusals) when it does not."""
    try:
        read_ack(data)
    except (AckUnreadable, BillingError) as exc:
        return exc.message
    return None
