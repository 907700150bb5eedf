"""Helpers shared by the item tables: localized text, materials, fields,
departments (办理地点, 咨询电话) and legal bases (设定依据).

Every villager-visible string is written in Chinese first. English is
written with it. Tibetan and Kazakh come from DRAFTS (drafts.py) where a
draft exists; every non-Chinese text is a DRAFT until reviewed (the catalog's
`translation_status` says so, and `catalog-check` counts what is missing).
"""
import re

# DRAFT translations (Tibetan, and Kazakh in Cyrillic) live in drafts.py, a
# file of their own so translators and the engineers editing items do not
# edit the same file.
from .drafts import DRAFTS  # noqa: E402

# Cyrillic → töte jazu, letter for letter. Mirrors model/src/kazakh.rs
# (cyrillic_to_arabic), the tested converter: model/tests/integration/catalog_drafts.rs
# fails when the two disagree on any Kazakh draft in drafts.py.
_KK = {
    "а": "ا", "ә": "ا", "б": "ب", "в": "ۆ", "г": "گ", "ғ": "ع", "д": "د", "е": "ە",
    "ё": "يو", "ж": "ج", "з": "ز", "и": "ي", "й": "ي", "к": "ك", "қ": "ق", "л": "ل",
    "м": "م", "н": "ن", "ң": "ڭ", "о": "و", "ө": "و", "п": "پ", "р": "ر", "с": "س",
    "т": "ت", "у": "ۋ", "ұ": "ۇ", "ү": "ۇ", "ф": "ف", "х": "ح", "һ": "ھ", "ц": "تس",
    "ч": "چ", "ш": "ش", "щ": "شش", "ъ": "", "ы": "ى", "і": "ى", "ь": "", "э": "ە",
    "ю": "يۋ", "я": "يا",
}
HAMZA = "\u0674"


def kk_arabic(cyrillic):
    """Cyrillic Kazakh to töte jazu. A word with a front vowel (ә ө ү і) gets
    the high hamza in front unless ە, ك or گ already mark it front."""
    def word(m):
        low = m.group(0).lower()
        out = "".join(_KK.get(c, "") for c in low)
        if any(c in "әөүі" for c in low) and not any(c in "екгэ" for c in low):
            out = HAMZA + out
        return out
    # The whole Cyrillic block, as kazakh.rs does: a letter the table lacks
    # is dropped there too, and the comparison test names the word.
    text = re.sub("[\u0400-\u04FF]+", word, cyrillic)
    # Arabic punctuation, as in the kiosk's .po files.
    return text.replace(",", "،").replace("?", "؟").replace(";", "؛")


def t(zh, en=None):
    text = {"zh-CN": zh}
    if en:
        text["en"] = en
    # Tibetan and Kazakh where a draft exists; other texts fall back to Chinese.
    if zh in DRAFTS:
        bo, kk = DRAFTS[zh]
        text["bo"] = bo
        text["kk"] = kk_arabic(kk)
    return text

def tl(amount, unit):
    return {"amount": amount, "unit": unit}

WD = "working_days"
ND = "natural_days"
NOW = tl(1, "immediate")

def mat(code, zh, en, source, required=True, originals=1, copies=0, holder=None):
    """`holder="subject"`: the own document of the person the filing is about
    (a newborn, the deceased), not the applicant's; only a scan can bring it
    (the card reader, camera and e-license lookup get the applicant's)."""
    m = {"code": code, "name": t(zh, en), "originals": originals, "copies": copies,
         "required": required, "source": source}
    if holder:
        m["holder"] = holder
    return m

def opt(m):
    """The same material, not required."""
    return dict(m, required=False)

def choice(key, zh, en, options, required=True):
    return {"key": key, "label": t(zh, en), "type": "choice", "required": required,
            "options": [{"value": v, "label": t(z, e)} for v, z, e in options]}

def text(key, zh, en, max_len=30, required=True):
    return {"key": key, "label": t(zh, en), "type": "text", "max_len": max_len, "required": required}

def digits(key, zh, en, lo, hi, required=True):
    return {"key": key, "label": t(zh, en), "type": "digits", "min_len": lo, "max_len": hi, "required": required}

def date(key, zh, en, required=True):
    return {"key": key, "label": t(zh, en), "type": "date", "required": required}

NAME = {"key": "name", "label": t("姓名", "Name"), "type": "text", "max_len": 30, "required": True, "prefill": "name"}
IDNO = {"key": "id_number", "label": t("身份证号码", "ID number"), "type": "text", "max_len": 18, "required": True, "prefill": "id_number"}
PHONE = {"key": "phone", "label": t("联系电话", "Phone"), "type": "phone", "required": True}
# A place picked down to the village, the rest typed (issue 14). The card's
# address fills it when it names a Gansu village; otherwise the villager picks.
ADDR = {"key": "address", "label": t("住址", "Address"), "type": "place", "max_len": 40, "required": True, "prefill": "address"}
BASE = [NAME, IDNO, PHONE]
BANK_ACCOUNT = digits("bank_account", "银行账号", "Bank account number", 12, 19)
YESNO = [("yes", "是", "Yes"), ("no", "否", "No")]

# Materials used by many items.
ID_MAT = mat("idcard", "居民身份证", "Resident ID card", "id_card")
HUKOU = mat("hukou", "户口簿", "Household register", "scan")
BANKBOOK = mat("bankbook", "本人银行卡或存折", "Bank card or passbook", "scan")
PHOTO = mat("photo", "本人近期免冠证件照", "Recent ID-style photo", "photo")
FACE = mat("face", "本人现场人脸照片", "Live face photo", "face_photo")
PLEDGE = mat("pledge", "申请人签字的承诺书", "Signed pledge by the applicant", "signature")
SSCARD = mat("sscard", "社会保障卡", "Social security card", "e_license")
DISABILITY_CERT = mat("disability_cert", "残疾人证", "Disability certificate", "e_license")
BIRTH_CERT = mat("birth_cert", "出生医学证明", "Medical birth certificate", "e_license")
MARRIAGE_CERT = mat("marriage_cert", "结婚证", "Marriage certificate", "e_license")
DEATH_CERT = mat("death_cert", "居民死亡医学证明（推断）书", "Medical certificate of death", "scan", holder="subject")
CREMATION = mat("cremation", "火化证明", "Cremation certificate", "scan")
HOSPITAL_BILLS = mat("bills", "医疗费用票据", "Medical bills", "scan")
DISCHARGE = mat("discharge", "出院记录或诊断证明", "Discharge record or diagnosis", "scan")
LAND_CONTRACT = mat("land_contract", "农村土地承包经营权证或承包合同", "Land contract certificate or contract", "e_license")
INCOME = mat("income", "家庭收入情况声明", "Statement of household income", "signature")
PROOF = mat("proof", "困难情况证明材料", "Proof of hardship", "scan")

# 实施主体 with 办理地点 and 咨询电话. The phones are the national or
# provincial hotlines of the department (12333 人社, 12393 医保, 12345 政务服务
# 便民热线, 12385 残联, 12320 卫生健康, 12316 三农, 12366 税务, 12348 法律服务);
# a deployment replaces them with the county window's number on import.
DEPTS = {
    "RS": ("县人力资源和社会保障局", "County Human Resources and Social Security Bureau",
           "乡镇便民服务中心人社窗口，或县政务服务中心人社窗口", "Township service centre (HR & social security window) or county government service centre", "12333"),
    "YB": ("县医疗保障局", "County Healthcare Security Bureau",
           "乡镇便民服务中心医保窗口，或县政务服务中心医保窗口", "Township service centre (medical insurance window) or county government service centre", "12393"),
    "MZ": ("县民政局", "County Civil Affairs Bureau",
           "乡镇人民政府（便民服务中心民政窗口）", "Township government (civil affairs window)", "12345"),
    "HY": ("县民政局婚姻登记处", "County Marriage Registry (Civil Affairs Bureau)",
           "县婚姻登记处（当事人本人到场）", "County marriage registry (both parties in person)", "12345"),
    "CL": ("县残疾人联合会", "County Disabled Persons' Federation",
           "乡镇便民服务中心残联专干，或县政务服务中心残联窗口", "Township disability officer or county government service centre", "12385"),
    "GA": ("县公安局", "County Public Security Bureau",
           "户籍所在地派出所户籍窗口", "Household registration window of the local police station", "12345"),
    "WJ": ("县卫生健康局", "County Health Commission",
           "乡镇卫生院，或县政务服务中心卫健窗口", "Township health centre or county government service centre", "12320"),
    "JY": ("县教育局（学生资助管理中心）", "County Education Bureau (Student Aid Centre)",
           "县政务服务中心教育窗口，或学生就读学校", "County government service centre (education window) or the pupil's school", "12345"),
    "NY": ("县农业农村局", "County Agriculture and Rural Affairs Bureau",
           "乡镇便民服务中心农业综合服务站", "Township agricultural service station", "12316"),
    "LC": ("县林业和草原局", "County Forestry and Grassland Bureau",
           "乡镇林业工作站或草原工作站", "Township forestry or grassland station", "12345"),
    "ZJ": ("县住房和城乡建设局", "County Housing and Urban-Rural Development Bureau",
           "乡镇人民政府（便民服务中心）", "Township government (service centre)", "12345"),
    "YJ": ("县应急管理局", "County Emergency Management Bureau",
           "乡镇人民政府（便民服务中心）", "Township government (service centre)", "12345"),
    "CZ": ("县财政局", "County Finance Bureau",
           "乡镇财政所", "Township finance office", "12345"),
    "SW": ("国家税务总局县税务局", "County Tax Bureau (State Taxation Administration)",
           "乡镇便民服务中心或村级社保费代收点", "Township service centre or village contribution collection point", "12366"),
    "TY": ("县退役军人事务局", "County Veterans Affairs Bureau",
           "乡镇退役军人服务站", "Township veterans service station", "12345"),
    "SF": ("县司法局", "County Justice Bureau",
           "乡镇司法所，或县公共法律服务中心", "Township justice office or county public legal service centre", "12348"),
}

# 设定依据: laws and documents items cite. Written from memory of the public
# guides; each item's `source.checked` stays false until compared with the
# live guide on 甘肃政务服务网.
LAWS = {
    "sbf": ("《中华人民共和国社会保险法》", "Social Insurance Law of the PRC"),
    "cxjm_yl": ("《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）", "State Council opinion on unified basic pension insurance for urban and rural residents (2014 No. 8)"),
    "sbk": ("《社会保障卡管理办法》", "Social Security Card Administration Measures"),
    "cxjm_yb": ("《国务院关于整合城乡居民基本医疗保险制度的意见》（国发〔2016〕3号）", "State Council opinion on integrating basic medical insurance for urban and rural residents (2016 No. 3)"),
    "ybjj": ("《医疗保障基金使用监督管理条例》", "Regulation on the Use of Medical Insurance Funds"),
    "shjz": ("《社会救助暂行办法》", "Interim Measures for Social Assistance"),
    "tkry": ("《特困人员认定办法》", "Measures for Identifying People in Extreme Poverty"),
    "lnr": ("《中华人民共和国老年人权益保障法》", "Law on the Protection of the Rights and Interests of Older People"),
    "cjr": ("《中华人民共和国残疾人保障法》", "Law on the Protection of Persons with Disabilities"),
    "cj2015": ("《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）", "State Council opinion on the two disability subsidies (2015 No. 52)"),
    "cjk": ("《残疾预防和残疾人康复条例》", "Regulation on Disability Prevention and Rehabilitation"),
    "hkdj": ("《中华人民共和国户口登记条例》", "Household Registration Regulation of the PRC"),
    "sfz": ("《中华人民共和国居民身份证法》", "Resident Identity Card Law of the PRC"),
    "hydj": ("《婚姻登记条例》", "Marriage Registration Regulation"),
    "mfd": ("《中华人民共和国民法典》", "Civil Code of the PRC"),
    "jyf": ("《中华人民共和国就业促进法》", "Employment Promotion Law of the PRC"),
    "sybx": ("《失业保险条例》", "Unemployment Insurance Regulation"),
    "gsbx": ("《工伤保险条例》", "Regulation on Work-Related Injury Insurance"),
    "ldjc": ("《劳动保障监察条例》", "Regulation on Labour Security Supervision"),
    "bzgz": ("《保障农民工工资支付条例》", "Regulation on Guaranteeing Payment of Migrant Workers' Wages"),
    "ldzc": ("《中华人民共和国劳动争议调解仲裁法》", "Labour Dispute Mediation and Arbitration Law"),
    "tdcb": ("《中华人民共和国农村土地承包法》", "Rural Land Contracting Law of the PRC"),
    "tdgl": ("《中华人民共和国土地管理法》", "Land Administration Law of the PRC"),
    "cxgh": ("《中华人民共和国城乡规划法》", "Urban and Rural Planning Law of the PRC"),
    "njh": ("《中华人民共和国农业机械化促进法》", "Agricultural Mechanization Promotion Law"),
    "nybx": ("《农业保险条例》", "Agricultural Insurance Regulation"),
    "dwfy": ("《中华人民共和国动物防疫法》", "Animal Epidemic Prevention Law"),
    "sxbt": ("《财政部 农业部关于全面推开农业“三项补贴”改革工作的通知》（财农〔2016〕26号）", "Notice on the reform of the three agricultural subsidies (Cainong 2016 No. 26)"),
    "tghl": ("《退耕还林条例》", "Regulation on Returning Farmland to Forest"),
    "cyf": ("《中华人民共和国草原法》", "Grassland Law of the PRC"),
    "slf": ("《中华人民共和国森林法》", "Forest Law of the PRC"),
    "jkf": ("《中华人民共和国基本医疗卫生与健康促进法》", "Law on Basic Medical and Health Care and the Promotion of Health"),
    "rkjs": ("《中华人民共和国人口与计划生育法》", "Population and Family Planning Law"),
    "mybj": ("《中华人民共和国母婴保健法》", "Maternal and Infant Health Care Law"),
    "ymgl": ("《中华人民共和国疫苗管理法》", "Vaccine Administration Law"),
    "ywjy": ("《中华人民共和国义务教育法》", "Compulsory Education Law"),
    "xszz": ("《学生资助资金管理办法》", "Measures for the Administration of Student Aid Funds"),
    "flyz": ("《中华人民共和国法律援助法》", "Legal Aid Law of the PRC"),
    "rmtj": ("《中华人民共和国人民调解法》", "People's Mediation Law of the PRC"),
    "zrzh": ("《自然灾害救助条例》", "Regulation on Natural Disaster Relief"),
    "tyjr": ("《中华人民共和国退役军人保障法》", "Veterans Protection Law of the PRC"),
    "fxyd": ("《军人抚恤优待条例》", "Regulation on Pensions and Preferential Treatment for Servicemen"),
    "bzgl": ("《殡葬管理条例》", "Funeral and Interment Regulation"),
    "etbz": ("《国务院办公厅关于加强孤儿保障工作的意见》", "General Office of the State Council opinion on support for orphans"),
    "fpjc": ("国家关于健全防止返贫动态监测和帮扶机制的政策文件", "National policy on monitoring and preventing return to poverty"),
    "policy": ("现行国家和甘肃省相关政策文件（以办事指南为准）", "Current national and Gansu policy documents (see the live guide)"),
}

def basis(*keys):
    zh = "；".join(LAWS[k][0] for k in keys)
    en = "; ".join(LAWS[k][1] for k in keys)
    text = t(zh, en)
    # Each law is drafted once; an item citing several gets them joined,
    # so a new combination needs no new draft.
    if "bo" not in text and all(LAWS[k][0] in DRAFTS for k in keys):
        text["bo"] = "། ".join(DRAFTS[LAWS[k][0]][0] for k in keys)
        text["kk"] = kk_arabic("; ".join(DRAFTS[LAWS[k][0]][1] for k in keys))
    return text

SOURCE = "甘肃政务服务网（zwfw.gansu.gov.cn）县级事项办事指南，依记忆整理，未逐项核对"

def item(code, zh, en, dept, theme, itype, law, cond, materials, form, legal, promised, result,
         availability="self_service", also=(), fee=None, location=None, keywords=()):
    """One 事项. `cond` is (zh, en); `law` a tuple of LAWS keys; `location` (zh, en) overrides the department's."""
    d_zh, d_en, loc_zh, loc_en, phone = DEPTS[dept]
    if location:
        loc_zh, loc_en = location
    return {"implement_code": code, "name": t(zh, en), "department": t(d_zh, d_en), "theme": theme,
            "keywords": list(keywords), "also_in": list(also), "item_type": itype, "legal_basis": basis(*law),
            "location": t(loc_zh, loc_en), "phone": phone,
            "conditions": t(*cond), "materials": materials, "form": form,
            "legal_time_limit": legal, "promised_time_limit": promised, "result_type": result,
            "fee": fee or {"kind": "free"}, "availability": availability,
            "source": {"guide": f"{SOURCE}：{zh}", "checked": False}}
