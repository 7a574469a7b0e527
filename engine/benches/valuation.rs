//! Valuation of a 24-item character with 3 presets (issue 5): the Evan fixture's equipped set and presets
//! (items generated from `../shared/fixtures/nexon/evan_equip.json` into the table below), valued with the
//! default options and the committed potential data.
//!
//! - `valuation/evan_fixture`: the real shape, where presets share most items (38 distinct of 94 worn);
//! - `valuation/all_distinct`: the worst case, every preset item made distinct (94 items valued);
//! - `potential_data/decode`: decoding the data file, paid once per process / Worker isolate.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/target-x cargo bench -p pve-engine --bench valuation`.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use pve_engine::flame::{FlameStats, Stat};
use pve_engine::potential::{Data, Grade, Grade::*};
use pve_engine::valuation::{self as va, Character, FlameInput, Item, Options, Potential, SetId, Stars};

type Pot = Option<(Grade, &'static [&'static str])>;
type Row = (
    &'static str,
    &'static str,
    &'static str,
    u32,
    u32,
    bool,
    Pot,
    Pot,
    &'static [(Stat, u32)],
    u32,
    u32,
    u32,
);

/// Distinct items of the Evan fixture (`../shared/fixtures/nexon/evan_equip.json`), generated once:
/// (slot, part, name, level, stars, star scroll, main potential, additional potential, flame, base ATT, base MATT, special ring level).
#[rustfmt::skip]
const ITEMS: &[Row] = &[
    ("모자", "모자", "에테르넬 메이지햇", 250, 22, false, Some((Legendary, &["스킬 재사용 대기시간 -2초", "스킬 재사용 대기시간 -2초", "피격 시 5% 확률로 데미지의 40% 무시"])), Some((Legendary, &["스킬 재사용 대기시간 -1초", "INT +7%", "INT +7%"])), &[(Stat::Dex, 28), (Stat::Int, 130), (Stat::Luk, 42), (Stat::AllStat, 5)], 0, 10, 0),
    ("얼굴장식", "얼굴장식", "루즈 컨트롤 머신 마크", 160, 22, false, Some((Legendary, &["INT +12%", "INT +9%", "INT +9%"])), Some((Unique, &["올스탯 +5%", "INT +4%", "최대 MP +180"])), &[(Stat::Str, 55), (Stat::Dex, 25), (Stat::Int, 75), (Stat::AllStat, 6)], 10, 10, 0),
    ("눈장식", "눈장식", "마력이 깃든 안대", 160, 22, false, Some((Legendary, &["INT +12%", "INT +9%", "INT +9%"])), Some((Unique, &["INT +6%", "INT +4%", "INT +4%"])), &[(Stat::Str, 30), (Stat::Int, 84), (Stat::AttackPower, 5), (Stat::AllStat, 5)], 3, 3, 0),
    ("귀고리", "귀고리", "커맨더 포스 이어링", 200, 22, false, Some((Legendary, &["INT +12%", "INT +12%", "INT +9%"])), Some((Legendary, &["캐릭터 기준 9레벨 당 INT +2", "올스탯 +5%", "INT +6%"])), &[(Stat::Str, 30), (Stat::Dex, 30), (Stat::Int, 162), (Stat::Luk, 36)], 5, 5, 0),
    ("상의", "상의", "에테르넬 메이지로브", 250, 22, false, Some((Legendary, &["INT +13%", "INT +10%", "올스탯 +7%"])), Some((Legendary, &["캐릭터 기준 9레벨 당 INT +2", "올스탯 +6%", "캐릭터 기준 9레벨 당 INT +1"])), &[(Stat::Str, 48), (Stat::Int, 107), (Stat::Luk, 35), (Stat::AllStat, 6)], 0, 6, 0),
    ("하의", "하의", "에테르넬 메이지팬츠", 250, 22, false, Some((Legendary, &["INT +13%", "올스탯 +7%", "INT +13%"])), Some((Legendary, &["마력 +17", "올스탯 +6%", "INT +7%"])), &[(Stat::Dex, 35), (Stat::Int, 125), (Stat::Luk, 42), (Stat::AllStat, 5)], 0, 6, 0),
    ("신발", "신발", "아케인셰이드 메이지슈즈", 200, 22, false, Some((Legendary, &["올스탯 +9%", "올스탯 +9%", "INT +9%"])), Some((Unique, &["INT +6%", "마력 +11", "INT +4%"])), &[(Stat::Dex, 30), (Stat::Int, 85), (Stat::MagicPower, 5), (Stat::AllStat, 5)], 0, 9, 0),
    ("장갑", "장갑", "아케인셰이드 메이지글러브", 200, 22, false, Some((Legendary, &["크리티컬 데미지 +8%", "최대 HP +9%", "크리티컬 데미지 +8%"])), Some((Legendary, &["크리티컬 데미지 +3%", "캐릭터 기준 9레벨 당 INT +1", "INT +18"])), &[(Stat::Str, 36), (Stat::Int, 91), (Stat::MagicPower, 4), (Stat::AllStat, 6)], 0, 9, 0),
    ("망토", "망토", "아케인셰이드 메이지케이프", 200, 22, false, Some((Legendary, &["INT +12%", "올스탯 +6%", "INT +9%"])), Some((Legendary, &["마력 +16", "INT +6%", "캐릭터 기준 9레벨 당 INT +1"])), &[(Stat::Dex, 55), (Stat::Int, 66), (Stat::MagicPower, 5), (Stat::AllStat, 6)], 6, 6, 0),
    ("보조무기", "문서", "드래곤마스터의 유산", 100, 0, false, Some((Legendary, &["마력 +12%", "마력 +12%", "마력 +9%"])), Some((Legendary, &["마력 +12%", "데미지 +9%", "마력 +9%"])), &[], 0, 3, 0),
    ("무기", "스태프", "제네시스 스태프", 200, 22, false, Some((Legendary, &["보스 몬스터 데미지 +35%", "보스 몬스터 데미지 +30%", "보스 몬스터 데미지 +30%"])), Some((Legendary, &["마력 +12%", "마력 +9%", "캐릭터 기준 9레벨 당 LUK +1"])), &[(Stat::Str, 24), (Stat::Dex, 24), (Stat::Int, 24), (Stat::Luk, 24), (Stat::MagicPower, 250), (Stat::AllStat, 4)], 251, 406, 0),
    ("반지1", "반지", "컨티뉴어스 링", 110, 0, false, None, None, &[], 4, 4, 4),
    ("반지2", "반지", "거대한 공포", 200, 22, false, Some((Legendary, &["INT +12%", "INT +9%", "INT +9%"])), Some((Legendary, &["INT +8%", "캐릭터 기준 9레벨 당 INT +1", "INT +6%"])), &[], 4, 4, 0),
    ("반지3", "반지", "여명의 가디언 엔젤 링", 160, 22, false, Some((Legendary, &["올스탯 +9%", "INT +12%", "INT +9%"])), Some((Legendary, &["INT +8%", "INT +6%", "캐릭터 기준 9레벨 당 INT +1"])), &[], 2, 2, 0),
    ("반지4", "반지", "마이스터링", 140, 22, false, Some((Legendary, &["INT +12%", "INT +9%", "INT +9%"])), Some((Legendary, &["INT +8%", "INT +18", "마력 +14"])), &[], 1, 1, 0),
    ("펜던트", "펜던트", "데이브레이크 펜던트", 140, 22, false, Some((Legendary, &["INT +12%", "INT +9%", "INT +9%"])), Some((Legendary, &["마력 +16", "INT +6%", "올스탯 +5%"])), &[(Stat::Dex, 16), (Stat::Int, 88), (Stat::Luk, 24), (Stat::AllStat, 6)], 2, 2, 0),
    ("훈장", "훈장", "칠요의 몬스터파커", 100, 0, false, None, None, &[], 7, 7, 0),
    ("벨트", "벨트", "몽환의 벨트", 200, 22, false, Some((Legendary, &["올스탯 +9%", "INT +12%", "INT +12%"])), Some((Legendary, &["캐릭터 기준 9레벨 당 INT +2", "올스탯 +5%", "올스탯 +5%"])), &[(Stat::Dex, 30), (Stat::Int, 126), (Stat::Luk, 30), (Stat::AllStat, 4)], 6, 6, 0),
    ("어깨장식", "어깨장식", "아케인셰이드 메이지숄더", 200, 22, false, Some((Legendary, &["올스탯 +9%", "INT +9%", "올스탯 +9%"])), Some((Legendary, &["INT +8%", "캐릭터 기준 9레벨 당 INT +1", "캐릭터 기준 9레벨 당 INT +1"])), &[], 20, 20, 0),
    ("포켓 아이템", "포켓 아이템", "저주받은 청의 마도서", 160, 0, false, None, None, &[(Stat::Str, 56), (Stat::Int, 65), (Stat::AllStat, 7)], 10, 10, 0),
    ("기계 심장", "기계 심장", "슈페리얼 리튬 하트", 80, 5, false, Some((Legendary, &["INT +12%", "올스탯 +6%", "INT +9%"])), Some((Legendary, &["캐릭터 기준 9레벨 당 INT +2", "최대 MP +5%", "INT +4%"])), &[], 0, 0, 0),
    ("뱃지", "뱃지", "칠요의 뱃지", 100, 0, false, None, None, &[], 7, 7, 0),
    ("엠블렘", "엠블렘", "미트라의 분노 : 마법사", 200, 0, false, Some((Legendary, &["몬스터 방어율 무시 +35%", "마력 +12%", "마력 +9%"])), Some((Legendary, &["마력 +12%", "공격 시 15% 확률로 95의 HP 회복", "마력 +9%"])), &[], 5, 5, 0),
    ("펜던트2", "펜던트", "고통의 근원", 160, 22, false, Some((Legendary, &["INT +12%", "INT +9%", "INT +9%"])), Some((Legendary, &["캐릭터 기준 9레벨 당 INT +2", "캐릭터 기준 9레벨 당 INT +1", "INT +6%"])), &[(Stat::Dex, 30), (Stat::Int, 84), (Stat::AllStat, 5), (Stat::LevelDecrease, 20)], 3, 3, 0),
    ("얼굴장식", "얼굴장식", "레드 매지션 마이스터 심볼", 100, 8, false, Some((Legendary, &["올스탯 +9%", "아이템 드롭률 +20%", "최대 HP +9%"])), Some((Rare, &["INT +10", "최대 HP +50", "마력 +2"])), &[(Stat::Dex, 15), (Stat::Luk, 39), (Stat::MagicPower, 3), (Stat::LevelDecrease, 15)], 0, 0, 0),
    ("눈장식", "눈장식", "파풀라투스 마크", 145, 22, false, Some((Legendary, &["아이템 드롭률 +20%", "아이템 드롭률 +20%", "최대 MP +9%"])), Some((Legendary, &["INT +8%", "공격력 +14", "캐릭터 기준 9레벨 당 INT +1"])), &[(Stat::Dex, 40), (Stat::Int, 64), (Stat::Luk, 24), (Stat::AllStat, 6)], 1, 1, 0),
    ("반지1", "반지", "SS급 마스터 쥬얼링", 120, 0, false, Some((Legendary, &["아이템 드롭률 +20%", "INT +9%", "INT +9%"])), None, &[], 20, 20, 0),
    ("반지2", "반지", "테네브리스 원정대 반지", 120, 0, false, Some((Legendary, &["아이템 드롭률 +20%", "INT +9%", "INT +9%"])), Some((Rare, &["마력 +10", "공격력 +3", "마력 +3"])), &[], 10, 10, 0),
    ("반지3", "반지", "결속의 반지", 120, 0, false, Some((Legendary, &["아이템 드롭률 +20%", "최대 MP +9%", "INT +9%"])), None, &[], 10, 10, 0),
    ("반지4", "반지", "코스모스 링", 120, 0, false, Some((Legendary, &["아이템 드롭률 +20%", "최대 MP +9%", "INT +9%"])), None, &[], 0, 0, 0),
    ("펜던트", "펜던트", "도미네이터 펜던트", 140, 21, false, Some((Legendary, &["메소 획득량 +20%", "아이템 드롭률 +20%", "INT +9%"])), Some((Epic, &["INT +4%", "최대 MP +2%", "INT +2%"])), &[(Stat::Str, 24), (Stat::Int, 72), (Stat::MagicPower, 5), (Stat::AllStat, 5)], 3, 3, 0),
    ("펜던트2", "펜던트", "그리드 펜던트", 75, 0, false, Some((Legendary, &["아이템 드롭률 +20%", "최대 MP +9%", "STR +9%"])), None, &[(Stat::Jump, 2)], 0, 0, 0),
    ("귀고리", "귀고리", "하프 이어링", 75, 5, false, Some((Legendary, &["아이템 드롭률 +20%", "INT +9%", "아이템 드롭률 +20%"])), Some((Rare, &["INT +8", "최대 MP +40"])), &[(Stat::Str, 4), (Stat::Dex, 4)], 0, 0, 0),
    ("장갑", "장갑", "블루 엘리멘탈 글로브", 110, 10, false, Some((Legendary, &["공격 시 7% 확률로 오토스틸", "LUK +9%", "공격 시 2% 확률로 오토스틸"])), Some((Epic, &["마력 +11", "이동속도 +5", "INT +2%"])), &[(Stat::Speed, 3), (Stat::Jump, 3), (Stat::AllStat, 3)], 0, 0, 0),
];

/// Equipped set and presets 1–3: (slot, index into ITEMS).
#[rustfmt::skip]
const SETS: [&[(&str, usize)]; 4] = [
    &[("모자", 0), ("얼굴장식", 1), ("눈장식", 2), ("귀고리", 3), ("상의", 4), ("하의", 5), ("신발", 6), ("장갑", 7), ("망토", 8), ("보조무기", 9), ("무기", 10), ("반지1", 11), ("반지2", 12), ("반지3", 13), ("반지4", 14), ("펜던트", 15), ("훈장", 16), ("벨트", 17), ("어깨장식", 18), ("포켓 아이템", 19), ("기계 심장", 20), ("뱃지", 21), ("엠블렘", 22), ("펜던트2", 23)],
    &[("모자", 0), ("귀고리", 3), ("상의", 4), ("하의", 5), ("신발", 6), ("장갑", 7), ("망토", 8), ("무기", 10), ("훈장", 16), ("벨트", 17), ("어깨장식", 18), ("포켓 아이템", 19), ("기계 심장", 20), ("뱃지", 21), ("엠블렘", 22), ("얼굴장식", 24), ("눈장식", 25), ("반지1", 26), ("반지2", 27), ("반지3", 28), ("반지4", 29), ("펜던트", 30), ("펜던트2", 31)],
    &[("얼굴장식", 1), ("눈장식", 2), ("보조무기", 9), ("반지1", 11), ("반지2", 12), ("반지3", 13), ("반지4", 14), ("펜던트", 15), ("펜던트2", 23), ("모자", 0), ("귀고리", 3), ("상의", 4), ("하의", 5), ("신발", 6), ("장갑", 7), ("망토", 8), ("무기", 10), ("훈장", 16), ("벨트", 17), ("어깨장식", 18), ("포켓 아이템", 19), ("기계 심장", 20), ("뱃지", 21), ("엠블렘", 22)],
    &[("귀고리", 32), ("장갑", 33), ("모자", 0), ("상의", 4), ("하의", 5), ("신발", 6), ("망토", 8), ("무기", 10), ("훈장", 16), ("벨트", 17), ("어깨장식", 18), ("포켓 아이템", 19), ("기계 심장", 20), ("뱃지", 21), ("엠블렘", 22), ("얼굴장식", 24), ("눈장식", 25), ("반지1", 26), ("반지2", 27), ("반지3", 28), ("반지4", 29), ("펜던트", 30), ("펜던트2", 31)],
];

const DATA: &[u8] = include_bytes!("../data/potential.tsv");

fn item(row: &Row, slot: &str, bump: u32) -> Item {
    let &(_, part, name, level, stars, star_scroll, main, add, flame, base_attack, base_magic_attack, ring) =
        row;
    let pot = |p: Pot| {
        p.map(|(grade, lines)| Potential {
            grade,
            lines: lines.iter().map(|s| s.to_string()).collect(),
        })
    };
    let mut stats = FlameStats::from_pairs(flame);
    if bump > 0 && stats.get(Stat::Int) > 0 {
        stats.set(Stat::Int, stats.get(Stat::Int) + bump);
    }
    Item {
        slot: slot.to_owned(),
        part: part.to_owned(),
        name: name.to_owned(),
        identity_issue: None,
        level: Ok(level),
        stars: Ok(Stars { stars, star_scroll }),
        potential: Ok(pot(main)),
        additional: Ok(pot(add)),
        flame: Ok(FlameInput {
            stats,
            base_attack: if slot == "무기" { base_attack } else { 0 },
            base_magic_attack: if slot == "무기" { base_magic_attack } else { 0 },
        }),
        special_ring_level: ring,
    }
}

/// `distinct`: make every preset's items differ from the equipped set's (INT flame + preset number, and a
/// potential line changed), so nothing is shared.
fn character(distinct: bool) -> Character {
    let ids = [
        SetId::Equipped,
        SetId::Preset(1),
        SetId::Preset(2),
        SetId::Preset(3),
    ];
    let sets = ids
        .iter()
        .zip(SETS)
        .enumerate()
        .map(|(n, (&id, entries))| {
            let bump = if distinct { n as u32 } else { 0 };
            let items = entries
                .iter()
                .map(|&(slot, i)| {
                    let mut it = item(&ITEMS[i], slot, bump);
                    if bump > 0 {
                        if let Ok(Some(p)) = it.potential.as_mut() {
                            p.lines[0] = ["INT +9%", "INT +12%", "마력 +9%"][n - 1].to_owned();
                        }
                    }
                    it
                })
                .collect();
            (id, items)
        })
        .collect();
    Character {
        class: Some("에반".to_owned()),
        sets,
    }
}

fn bench(c: &mut Criterion) {
    let data = Data::decode(DATA).expect("the committed data decodes");
    let options = Options::default();
    for (name, distinct) in [("evan_fixture", false), ("all_distinct", true)] {
        let ch = character(distinct);
        let v = va::value(&ch, &options, &data).unwrap();
        eprintln!(
            "{name}: {} sets, {} items worn, {} distinct items valued",
            v.sets.len(),
            v.sets.iter().map(|s| s.entries.len()).sum::<usize>(),
            v.items.len()
        );
        c.bench_function(&format!("valuation/{name}"), |b| {
            b.iter(|| va::value(black_box(&ch), black_box(&options), black_box(&data)).unwrap())
        });
    }
    c.bench_function("potential_data/decode", |b| {
        b.iter(|| Data::decode(black_box(DATA)).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
