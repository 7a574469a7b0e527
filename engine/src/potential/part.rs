//! Nexon Open API equipment slots → the official probability page's part names (the data's `part`).

/// The data's part name for an item of the Open API's `item_equipment_part` worn in
/// `item_equipment_slot`, or `None` when that slot has no potential table (뱃지, 훈장, 포켓 아이템, 안드로이드,
/// dragon and mechanic equipment, ...).
///
/// Rules (PROVENANCE.md, "API-format notes"): `반지1`-`반지4` → 반지, `펜던트`/`펜던트2` → 펜던트; in the 상의 slot
/// a 한벌옷 is 한벌옷; in the 보조무기 slot the part decides: 방패 → 방패, 포스실드/소울링 → 포스실드/소울링, every other
/// secondary → 보조무기; every other slot keeps its name.
///
/// # Examples
/// ```
/// use pve_engine::potential::part_from_api;
/// assert_eq!(part_from_api("반지", "반지3"), Some("반지"));
/// assert_eq!(part_from_api("한벌옷", "상의"), Some("한벌옷"));
/// assert_eq!(part_from_api("매그넘", "보조무기"), Some("보조무기"));
/// assert_eq!(part_from_api("뱃지", "뱃지"), None);
/// ```
pub fn part_from_api(item_equipment_part: &str, item_equipment_slot: &str) -> Option<&'static str> {
    let part = match item_equipment_slot {
        "무기" => "무기",
        "엠블렘" => "엠블렘",
        "보조무기" => match item_equipment_part {
            "방패" => "방패",
            "포스실드" | "소울링" | "포스실드/소울링" => "포스실드/소울링",
            _ => "보조무기",
        },
        "모자" => "모자",
        "상의" => match item_equipment_part {
            "한벌옷" => "한벌옷",
            _ => "상의",
        },
        "하의" => "하의",
        "신발" => "신발",
        "장갑" => "장갑",
        "망토" => "망토",
        "벨트" => "벨트",
        "어깨장식" => "어깨장식",
        "얼굴장식" => "얼굴장식",
        "눈장식" => "눈장식",
        "귀고리" => "귀고리",
        "반지1" | "반지2" | "반지3" | "반지4" => "반지",
        "펜던트" | "펜던트2" => "펜던트",
        "기계 심장" => "기계 심장",
        _ => return None,
    };
    Some(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(part: &str, slot: &str, expect: Option<&str>) {
        assert_eq!(part_from_api(part, slot), expect, "{part} in {slot}");
    }

    #[test]
    fn mapping() {
        check("건", "무기", Some("무기"));
        check("스태프", "무기", Some("무기"));
        check("문서", "보조무기", Some("보조무기"));
        check("방패", "보조무기", Some("방패"));
        check("포스실드", "보조무기", Some("포스실드/소울링"));
        check("소울링", "보조무기", Some("포스실드/소울링"));
        check("상의", "상의", Some("상의"));
        check("한벌옷", "상의", Some("한벌옷"));
        check("반지", "반지1", Some("반지"));
        check("반지", "반지4", Some("반지"));
        check("펜던트", "펜던트2", Some("펜던트"));
        check("기계 심장", "기계 심장", Some("기계 심장"));
        check("눈장식", "눈장식", Some("눈장식"));
        check("훈장", "훈장", None);
        check("포켓 아이템", "포켓 아이템", None);
        check("드래곤 모자", "드래곤 모자", None);
        check("메카닉 엔진", "메카닉 엔진", None);
    }
}
