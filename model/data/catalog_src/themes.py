"""Life-event themes (主题) and 一件事一次办 bundles."""
from .common import t

# Theme names are drafted in drafts.py like every text; keep them to a word
# or two: twelve chips share a row at large text, and the services screen's
# tiles get what the chips leave (tests ui_text_fits).

THEMES = [
    {"id": "social_security", "name": t("社会保障", "Social security")},
    {"id": "elderly", "name": t("养老", "Old age")},
    {"id": "medical", "name": t("就医", "Health care")},
    {"id": "birth", "name": t("出生", "A baby is born")},
    {"id": "school", "name": t("上学", "School")},
    {"id": "employment", "name": t("就业", "Work")},
    {"id": "marriage", "name": t("婚育", "Marriage and children")},
    {"id": "disability", "name": t("残疾", "Disability")},
    {"id": "assistance", "name": t("救助", "Assistance")},
    {"id": "agriculture", "name": t("农业生产", "Farming")},
    {"id": "household", "name": t("户籍证件", "Registration and ID")},
    {"id": "death", "name": t("身后事", "After a death")},
]

BASE_KEYS = ["name", "id_number", "phone"]
DECEASED_KEYS = ["deceased_name", "deceased_id"]

BABY_KEYS = ["baby_name", "baby_gender", "baby_birth_date"]

def bundle(code, zh, en, items, shared, themes, subject=(), fixed=None):
    """`subject`: for a bundle about someone other than the applicant, the
    shared keys naming that person; the model refuses a part that does not
    ask them or that takes a photo (it would be the applicant's).
    `fixed`: a part's form keys the bundle answers itself ({key: stored
    value}): never asked, filed with that value; the model refuses a value
    the part's field would not accept."""
    b = {"code": code, "name": t(zh, en), "items": items, "shared_fields": shared, "themes": themes}
    if subject:
        b["subject_fields"] = list(subject)
    if fixed:
        b["fixed_fields"] = dict(fixed)
    return b

# Parts as in the national 高效办成一件事 lists (国发〔2024〕3号 and the
# State Council's 2024 key-item lists, from memory: 新生儿出生 = 出生医学证明,
# 预防接种证, 户口登记, 城乡居民医保参保登记, 社会保障卡申领 and 医保缴费;
# 身后 = 死亡证明, 户口注销, 社保和医保注销, 殡葬补贴, 残疾人证注销 and so on),
# keeping the ones a village kiosk can file; the provincial 我要… bundles
# from the Gansu portal's theme list, unchecked like the items.

BUNDLES = [
    bundle("620000YJS001", "我要办理社会保障卡", "I want a social security card",
           ["620000RS0002", "620000RS0001"], BASE_KEYS, ["social_security"]),
    bundle("620000YJS002", "新生儿出生一件事", "A baby is born",
           ["620000GA0001", "620000YB0009", "620000WJ0003", "620000RS0028"],
           BASE_KEYS + BABY_KEYS, ["birth", "marriage"], subject=BABY_KEYS),
    bundle("620000YJS003", "我要退休（领取养老金）", "I am retiring (start my pension)",
           ["620000RS0004", "620000RS0011", "620000MZ0008"], BASE_KEYS, ["elderly", "social_security"]),
    bundle("620000YJS004", "我要领取失业保险金", "I want unemployment benefit",
           ["620000RS0013", "620000RS0016", "620000RS0019"], BASE_KEYS + ["wish"], ["employment"]),
    bundle("620000YJS005", "身后一件事", "After a death",
           ["620000GA0002", "620000RS0007", "620000MZ0012", "620000CL0006"], BASE_KEYS + DECEASED_KEYS + ["death_date", "relation"], ["death"],
           # The pension record is closed because of the death: its 注销原因
           # is not a question for the family.
           subject=DECEASED_KEYS, fixed={"reason": "death"}),
]
