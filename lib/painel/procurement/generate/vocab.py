"""Portuguese vocabularies: object families, their classes (one product or service each),
catalogue items, item descriptions with variation, and free-text units of measure.

A family gives its classes' material/service kind, the dispensa inciso (I: obras, engenharia,
manutenção de veículos; II: the rest), the base unit, the median reference price, the median
quantity, a generic head ("medicamento") and brand-like tokens. Each noun of a family is one
class; synonyms after ``/`` are how buyers write it.

Descriptions are confusable on purpose, as real ones are: nouns share words across classes
("papel A4" / "papel toalha", "óleo de soja" / "óleo diesel", "manutenção predial" /
"manutenção mecânica"), some descriptions give only a shared head word or the family's generic
name with a spec, brands recur across families, and there are typos and abbreviations.
:data:`VAGUE` descriptions carry no class at all.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Family:
    name: str
    kind: str  # 'M' or 'S'
    inciso: str  # 'I' or 'II'
    unit: str  # base unit family: UN KG L M2 M H MES KM
    price: float  # median reference unit price (R$, 2023)
    qty: float  # median quantity per item
    dispensa: bool  # may be bought by dispensa de valor
    nouns: tuple[str, ...]
    specs: tuple[str, ...]
    head: str  # generic name of the family's objects ("medicamento")
    brands: tuple[str, ...]


def _f(
    name: str,
    kind: str,
    inciso: str,
    unit: str,
    price: float,
    qty: float,
    nouns: str,
    specs: str,
    dispensa: bool = True,
    head: str = "",
    brands: str = "",
) -> Family:
    return Family(
        name,
        kind,
        inciso,
        unit,
        price,
        qty,
        dispensa,
        tuple(n.strip() for n in nouns.split("|")),
        tuple(s.strip() for s in specs.split("|")),
        head or name.lower(),
        tuple(b.strip() for b in brands.split("|") if b.strip()),
    )


# Order matters: small worlds take the first noun of every family first (round robin), so
# the families every rule needs (inciso I, reforma, services, materials) come early, and the
# first nouns share words across families ("papel", "óleo", "manutenção", "locação", "luva")
# so even a small world's classes are confusable.
FAMILIES: tuple[Family, ...] = (
    _f(
        "Material de expediente",
        "M",
        "II",
        "UN",
        6.0,
        60,
        "papel sulfite A4/papel A4/resma papel A4/papel A4 branco"
        "|caneta esferográfica/caneta esf./caneta esferografica|lápis preto/lapis preto nº 2/lápis grafite"
        "|borracha branca/borracha escolar|grampeador/grampeador de mesa|clipe metálico/clips/clipe galvanizado"
        "|pasta suspensa/pasta suspensa kraft|envelope pardo/envelope kraft|fita adesiva/durex/fita adesiva transparente"
        "|cola branca/cola escolar|marca-texto/caneta marca texto|corretivo líquido/corretivo"
        "|bloco de notas adesivas/post-it/bloco adesivo|livro ata/livro de ata 100 folhas"
        "|caixa arquivo/caixa arquivo morto/arquivo morto polionda|etiqueta adesiva/etiquetas p/ impressora"
        "|perfurador de papel/perfurador",
        "azul|preta|vermelha|nº 2|tamanho 2/0|26/6|75 g/m2|500 folhas|12 mm x 30 m|110 g|com 100 unidades|ponta média",
        head="material de expediente",
        brands="Bic|Faber-Castell|Pilot|Chamex|Report|3M|Tilibra|Acrimet",
    ),
    _f(
        "Obras de engenharia",
        "S",
        "I",
        "M2",
        420.0,
        300,
        "construção de unidade básica de saúde/construção de UBS|pavimentação asfáltica/pavimentação em CBUQ"
        "|recapeamento asfáltico/recapeamento de vias|construção de quadra poliesportiva/quadra coberta"
        "|drenagem pluvial/rede de drenagem|calçamento em bloquete/pavimentação em bloquete|construção de ponte/ponte de concreto"
        "|ampliação de escola/ampliação de unidade escolar|construção de creche/construção de CMEI"
        "|rede de esgoto/implantação de rede coletora de esgoto|rede de abastecimento de água/rede de distribuição de água"
        "|meio-fio e sarjeta/execução de meio-fio|construção de muro/muro de arrimo|construção de praça/urbanização de praça",
        "com fornecimento de material|incluindo mão de obra|conforme projeto básico|em concreto armado|área urbana|zona rural",
        head="obra de engenharia",
    ),
    _f(
        "Reforma de edificações",
        "S",
        "I",
        "M2",
        260.0,
        250,
        "reforma de prédio público/reforma predial|reforma de escola/reforma de unidade escolar"
        "|reforma de unidade de saúde/reforma de posto de saúde|reforma de telhado/reforma da cobertura"
        "|reforma de banheiros/reforma sanitários|reforma de instalações elétricas/reforma elétrica"
        "|reforma de quadra poliesportiva/reforma de quadra|reforma de ginásio/reforma do ginásio de esportes"
        "|reforma e ampliação de creche/reforma de creche",
        "com fornecimento de material|conforme planilha orçamentária|incluindo pintura|com acessibilidade|mão de obra e material",
        head="reforma",
    ),
    _f(
        "Manutenção de veículos",
        "S",
        "I",
        "H",
        110.0,
        80,
        "manutenção mecânica de veículos/serviço de mecânica/mecânica geral/manutenção mecânica"
        "|funilaria e pintura/lanternagem e pintura|alinhamento e balanceamento/alinhamento balanceamento"
        "|troca de óleo/troca de óleo e filtros|revisão preventiva/manutenção preventiva de veículos"
        "|retífica de motor/retifica motor|serviço elétrico automotivo/elétrica automotiva"
        "|manutenção de ar-condicionado automotivo/ar condicionado automotivo|serviço de borracharia/borracharia"
        "|manutenção de máquinas pesadas/manutenção de máquinas da frota",
        "veículos leves|veículos pesados|frota municipal|linha diesel|com fornecimento de peças|hora trabalhada",
        head="manutenção de veículos",
    ),
    _f(
        "Medicamentos",
        "M",
        "II",
        "UN",
        1.2,
        2000,
        "dipirona sódica/dipirona/dipirona sodica|paracetamol/paracetamol comprimido|amoxicilina/amoxicilina cápsula"
        "|losartana potássica/losartana/losartana potassica|omeprazol/omeprazol cápsula|metformina/cloridrato de metformina"
        "|ibuprofeno/ibuprofeno comprimido|captopril/captopril comprimido|azitromicina/azitromicina di-hidratada"
        "|sinvastatina/sinvastatina comprimido|cefalexina/cefalexina cápsula|prednisona/prednisona comprimido"
        "|dexametasona/dexametasona creme|diclofenaco sódico/diclofenaco|enalapril/maleato de enalapril"
        "|hidroclorotiazida/hidroclorotiazida comprimido|atenolol/atenolol comprimido|fluoxetina/cloridrato de fluoxetina"
        "|clonazepam/clonazepam gotas|insulina NPH/insulina humana NPH|soro fisiológico/cloreto de sódio 0,9%"
        "|salbutamol/sulfato de salbutamol|ácido acetilsalicílico/AAS",
        "500 mg|750 mg|50 mg|20 mg|850 mg|600 mg|25 mg|comprimido|cápsula|solução oral|genérico|blister",
        head="medicamento",
        brands="EMS|Medley|Eurofarma|Neo Química|Prati-Donaduzzi|Teuto|Hipolabor",
    ),
    _f(
        "Serviços de engenharia",
        "S",
        "I",
        "H",
        180.0,
        120,
        "manutenção predial/manutenção predial preventiva e corretiva|elaboração de projeto executivo/projeto executivo de engenharia"
        "|fiscalização de obras/fiscalização de obra|levantamento topográfico/topografia"
        "|laudo técnico de engenharia/laudo estrutural|sondagem do solo/sondagem SPT"
        "|instalação elétrica predial/instalações elétricas|projeto de prevenção contra incêndio/PPCI"
        "|georreferenciamento/georreferenciamento de imóveis|estudo de impacto ambiental/licenciamento ambiental",
        "com ART|engenheiro civil|engenheiro eletricista|técnico de edificações|hora técnica|conforme termo de referência",
        head="serviço de engenharia",
    ),
    _f(
        "Material médico-hospitalar",
        "M",
        "II",
        "UN",
        3.5,
        800,
        "luva de procedimento/luva procedimento látex/luva de latex|seringa descartável/seringa desc.|agulha hipodérmica/agulha descartável"
        "|gaze estéril/compressa de gaze|esparadrapo/esparadrapo impermeável|atadura de crepom/atadura crepe"
        "|máscara cirúrgica/mascara descartável tripla|cateter intravenoso/cateter periférico|equipo macrogotas/equipo soro"
        "|algodão hidrófilo/algodão rolo|sonda uretral/sonda vesical|coletor de perfurocortante/caixa coletora perfurocortante"
        "|touca descartável/touca sanfonada|avental descartável/avental manga longa descartável"
        "|lençol descartável/lençol de papel descartável|fita microporosa/micropore",
        "tamanho M|tamanho G|10 ml|5 ml|25x7|7,5 cm x 4,5 m|10 cm x 4,5 m|500 g|calibre 22G|estéril|não estéril",
        head="material hospitalar",
        brands="Descarpack|Cremer|BD|Medix|Supermax|3M|Nipro",
    ),
    _f(
        "Gêneros alimentícios",
        "M",
        "II",
        "KG",
        9.0,
        300,
        "óleo de soja/óleo vegetal de soja/oleo de soja|arroz tipo 1/arroz agulhinha/arroz longo fino"
        "|feijão carioca/feijão tipo 1|açúcar cristal/açucar|café torrado e moído/café em pó"
        "|leite em pó/leite em pó integral|macarrão espaguete/macarrão|carne bovina/carne bovina de 1ª/carne moída"
        "|frango congelado/peito de frango|farinha de trigo/farinha trigo|leite UHT/leite longa vida"
        "|ovos/ovos de galinha|sal refinado/sal iodado|biscoito cream cracker/biscoito salgado"
        "|margarina/margarina com sal|achocolatado em pó/achocolatado|sardinha em lata/sardinha"
        "|carne suína/lombo suíno|queijo muçarela/queijo mussarela|pão francês/pão de sal",
        "pacote 5 kg|pacote 1 kg|tipo 1|sem glúten|embalagem 500 g|congelado|resfriado|integral|tradicional|a granel",
        head="gênero alimentício",
        brands="Camil|Tio João|Nestlé|Piracanjuba|Italac|Sadia|Seara|Liza|Soya|Vitarella",
    ),
    _f(
        "Material de limpeza",
        "M",
        "II",
        "UN",
        7.0,
        150,
        "papel higiênico/papel higienico folha dupla|detergente líquido/detergente neutro"
        "|água sanitária/agua sanitaria/hipoclorito|desinfetante/desinfetante pinho"
        "|sabão em pó/sabão pó|papel toalha/papel toalha interfolhado"
        "|saco de lixo/saco p/ lixo|vassoura/vassoura de pelo|pano de chão/pano de chao alvejado|álcool 70%/alcool etilico 70"
        "|esponja dupla face/esponja|limpa-vidros/limpa vidros|sabonete líquido/sabonete liquido"
        "|luva de borracha/luva de limpeza|rodo/rodo de alumínio|balde/balde plástico|limpador multiuso/multiuso"
        "|cera líquida/cera|flanela/flanela de algodão",
        "500 ml|1 litro|5 litros|100 litros|60 litros|fardo|rolo 30 m|lavanda|eucalipto|neutro",
        head="material de limpeza",
        brands="Ypê|Veja|Omo|Qboa|Scott|Neve|Bettanin|Limpol|3M",
    ),
    _f(
        "Combustíveis",
        "M",
        "II",
        "L",
        5.6,
        3000,
        "óleo diesel S10/diesel S-10/oleo diesel|gasolina comum/gasolina C comum|etanol hidratado/álcool combustível"
        "|óleo lubrificante/óleo de motor|aditivo ARLA 32/arla 32|gás natural veicular/GNV",
        "comum|aditivada|a granel|fornecimento parcelado|em posto credenciado|para frota",
        head="combustível",
        brands="Petrobras|Ipiranga|Shell|Lubrax|Mobil",
    ),
    _f(
        "Limpeza e conservação",
        "S",
        "II",
        "MES",
        22000.0,
        12,
        "limpeza e conservação predial/serviço de limpeza|conservação de áreas verdes/roçagem|jardinagem/serviço de jardinagem"
        "|dedetização/controle de pragas|limpeza de caixa d'água/higienização de reservatórios|coleta de resíduos/coleta de lixo"
        "|varrição de vias/varrição de logradouros|poda de árvores/poda e supressão de árvores"
        "|limpeza de fossa/esgotamento de fossa séptica",
        "com fornecimento de material|dedicação exclusiva de mão de obra|postos de trabalho|mensal|44 horas semanais",
        head="serviço de limpeza",
    ),
    _f(
        "Equipamentos de informática",
        "M",
        "II",
        "UN",
        3200.0,
        10,
        "notebook/computador portátil|computador desktop/microcomputador|monitor LED/monitor 24|impressora multifuncional/multifuncional laser"
        "|nobreak/no-break|switch de rede/switch 24 portas|tablet/tablet 10 polegadas|projetor multimídia/datashow"
        "|scanner de mesa/scanner|servidor de rede/servidor rack|roteador wireless/roteador wi-fi|access point/ponto de acesso wi-fi",
        "core i5|core i7|16 GB RAM|SSD 512 GB|1,5 kVA|gigabit|3500 lumens|garantia 36 meses|Windows 11 Pro|tela 15,6",
        head="equipamento de informática",
        brands="Dell|Lenovo|Positivo|HP|Samsung|LG|Epson|Intelbras|SMS|TP-Link",
    ),
    _f(
        "Veículos",
        "M",
        "II",
        "UN",
        140000.0,
        2,
        "automóvel sedan/veículo de passeio/carro sedan|caminhonete 4x4/caminhonete cabine dupla|ambulância/ambulância tipo A"
        "|motocicleta/moto 160 cc|ônibus escolar/onibus escolar rural|caminhão basculante/caminhão caçamba"
        "|van de passageiros/van 16 lugares|micro-ônibus/microonibus|furgão/veículo utilitário furgão",
        "zero km|flex|diesel|0 km ano/modelo vigente|com ar-condicionado|tração 4x4",
        dispensa=False,
        head="veículo",
        brands="Fiat|Volkswagen|Chevrolet|Toyota|Renault|Honda|Mercedes-Benz|Iveco",
    ),
    _f(
        "Suprimentos de informática",
        "M",
        "II",
        "UN",
        120.0,
        20,
        "toner/cartucho de toner|cartucho de tinta/cartucho tinta|mouse óptico/mouse USB|teclado USB/teclado ABNT2"
        "|pen drive/pendrive|cabo HDMI/cabo hdmi 2.0|HD externo/disco rígido externo|headset/fone de ouvido com microfone"
        "|memória RAM/pente de memória|SSD/unidade SSD|webcam/câmera web|cabo de rede/cabo UTP cat6",
        "preto|colorido|compatível|original|32 GB|64 GB|2 metros|1 TB|ABNT2",
        head="suprimento de informática",
        brands="HP|Brother|Samsung|Multilaser|Logitech|Kingston|Sandisk|Epson",
    ),
    _f(
        "Mobiliário",
        "M",
        "II",
        "UN",
        850.0,
        15,
        "cadeira giratória/cadeira de escritório giratória|mesa de escritório/mesa reta|armário de aço/armario alto 2 portas"
        "|estante de aço/estante 6 prateleiras|arquivo de aço/arquivo 4 gavetas|longarina/longarina 3 lugares|mesa de reunião/mesa reunião oval"
        "|cadeira fixa/cadeira fixa empilhável|quadro branco/quadro branco magnético|conjunto escolar/conjunto aluno mesa e cadeira"
        "|gaveteiro volante/gaveteiro|sofá/sofá 3 lugares|poltrona/poltrona de descanso|balcão de atendimento/balcão",
        "com braços|espaldar alto|1,20 x 0,60 m|em MDF|em aço|cor cinza|cor preta|NR-17",
        head="mobiliário",
        brands="Pandin|Cavaletti|Flexform|Marelli|Fortline|Tok Stok",
    ),
    _f(
        "Vigilância",
        "S",
        "II",
        "MES",
        16000.0,
        12,
        "vigilância armada/vigilancia patrimonial armada|vigilância desarmada/vigilancia desarmada|monitoramento eletrônico/monitoramento por câmeras"
        "|portaria/serviço de portaria|controle de acesso/recepção e controle de acesso|alarme monitorado/monitoramento de alarme",
        "12x36 diurno|12x36 noturno|24 horas|posto|com equipamentos|mensal",
        head="serviço de vigilância",
    ),
    _f(
        "Locação de veículos",
        "S",
        "II",
        "MES",
        4200.0,
        12,
        "locação de veículo de passeio/locação de carro|locação de caminhonete/locação caminhonete|locação de van/locação van 16 lugares"
        "|locação de ônibus/locação onibus|locação de caminhão/locação caminhão pipa|locação de máquina pesada/locação de retroescavadeira"
        "|locação de motocicleta/locação de moto",
        "sem motorista|com motorista|quilometragem livre|com combustível|mensal|diária",
        head="locação de veículo",
    ),
    _f(
        "Serviços de TI",
        "S",
        "II",
        "H",
        140.0,
        200,
        "manutenção de computadores/manutenção de microcomputadores|desenvolvimento de software/fábrica de software"
        "|suporte técnico/suporte técnico de TI|licença de software/licenciamento de software"
        "|hospedagem em nuvem/serviço de nuvem|link de internet/acesso à internet"
        "|outsourcing de impressão/locação de impressoras|certificado digital/certificado digital e-CNPJ"
        "|sistema de gestão pública/locação de sistema de gestão|cabeamento estruturado/rede lógica"
        "|telefonia móvel/serviço de telefonia celular|telefonia fixa/telefonia VoIP",
        "sob demanda|24x7|100 Mbps|por usuário|mensal|nível 1|nível 2|pontos de função",
        head="serviço de informática",
    ),
    _f(
        "Material de construção",
        "M",
        "II",
        "UN",
        35.0,
        120,
        "cimento portland/cimento CP II|areia média/areia lavada|tijolo cerâmico/tijolo 8 furos|tinta acrílica/tinta latex acrílica"
        "|tubo PVC/tubo de pvc|telha/telha fibrocimento|brita/brita nº 1|vergalhão/vergalhão CA-50"
        "|argamassa/argamassa colante|cal hidratada/cal|tábua de pinus/madeira pinus|prego/prego com cabeça"
        "|bloco de concreto/bloco estrutural|massa corrida/massa acrílica|porta de madeira/porta lisa|janela de alumínio/janela de correr",
        "saco 50 kg|18 litros|100 mm|3/8|6 metros|branco neve|2,44 x 1,10 m|m3",
        head="material de construção",
        brands="Votorantim|Suvinil|Coral|Tigre|Quartzolit|Gerdau|Brasilit",
    ),
    _f(
        "Material elétrico",
        "M",
        "II",
        "UN",
        22.0,
        100,
        "lâmpada LED/lampada led bulbo|disjuntor/disjuntor termomagnético|tomada/tomada 2P+T|interruptor/interruptor simples"
        "|cabo flexível/fio flexível|luminária/luminária LED|fita isolante/fita isolante 19 mm|reator/reator eletrônico"
        "|quadro de distribuição/quadro de disjuntores|eletroduto/eletroduto corrugado|refletor LED/refletor"
        "|relé fotoelétrico/relé fotocélula|extensão elétrica/filtro de linha",
        "9 W|18 W|bivolt|20 A|10 A|2,5 mm|4 mm|rolo 100 m|branca|6500 K",
        head="material elétrico",
        brands="Philips|Tramontina|Pial|Sil|Prysmian|Schneider|Osram|3M",
    ),
    _f(
        "Consultoria e treinamento",
        "S",
        "II",
        "H",
        210.0,
        60,
        "curso de capacitação/capacitação de servidores|consultoria contábil/assessoria contábil|assessoria jurídica/consultoria jurídica"
        "|palestra/palestra motivacional|treinamento em licitações/curso de licitações e contratos|auditoria/auditoria independente"
        "|consultoria em gestão/planejamento estratégico|elaboração de plano municipal/plano municipal de saneamento",
        "presencial|EAD|carga horária 40 h|por participante|hora técnica|conforme plano de trabalho",
        head="consultoria",
    ),
    _f(
        "Eventos",
        "S",
        "II",
        "UN",
        2500.0,
        6,
        "locação de tendas/tenda 10x10|sonorização/som e iluminação|buffet/serviço de buffet|decoração/ornamentação"
        "|locação de palco/palco 12x8|banheiro químico/locação de banheiro químico|show artístico/apresentação artística"
        "|cerimonial/serviço de cerimonial|trio elétrico/locação de trio elétrico|queima de fogos/show pirotécnico",
        "para evento|diária|por pessoa|com montagem|padrão|PNE",
        head="serviço para eventos",
    ),
    _f(
        "Gráfica",
        "M",
        "II",
        "UN",
        1.8,
        2000,
        "impressão de banner/banner em lona|panfleto/panfletos 4x4 cores|cartaz/cartaz A3|livro impresso/impressão de livros"
        "|cartão de visita/cartões de visita|adesivo/adesivo vinil|faixa/faixa em lona"
        "|talonário/impressão de formulários|envelope personalizado/envelope timbrado",
        "4x0 cores|4x4 cores|couché 90 g|A4|A3|1,00 x 0,70 m|vinil",
        head="material gráfico",
    ),
    _f(
        "Uniformes e vestuário",
        "M",
        "II",
        "UN",
        55.0,
        200,
        "camiseta/camiseta malha|calça jeans/calça|jaleco/jaleco branco|bota de segurança/botina de segurança|boné/bone"
        "|colete refletivo/colete|uniforme escolar/kit uniforme escolar|bermuda/bermuda tactel|agasalho/jaqueta agasalho"
        "|meia/meia esportiva",
        "tamanho P|tamanho M|tamanho G|tamanho GG|100% algodão|com logomarca|nº 40|manga longa",
        head="uniforme",
        brands="Hering|Marluvas|Penalty|Topper",
    ),
    _f(
        "EPI",
        "M",
        "II",
        "UN",
        30.0,
        100,
        "luva de raspa/luva de vaqueta/luva de segurança|capacete de segurança/capacete aba frontal|óculos de proteção/oculos incolor"
        "|protetor auricular/protetor tipo plug|máscara PFF2/respirador PFF2|cinto de segurança/cinturão paraquedista"
        "|protetor solar/protetor solar FPS 50|avental de PVC/avental impermeável|bota de borracha/galocha",
        "com CA|classe B|tamanho único|incolor|com jugular|NR-6",
        head="equipamento de proteção individual",
        brands="3M|Marluvas|Kalipso|Danny|Volk|Plastcor",
    ),
    _f(
        "Material escolar",
        "M",
        "II",
        "UN",
        4.0,
        1500,
        "kit escolar/kit material escolar|lápis de cor/lapis de cor 12 cores|giz de cera/giz cera|caderno brochura/caderno"
        "|mochila escolar/mochila|tesoura escolar/tesoura sem ponta|massa de modelar/massinha|caneta hidrográfica/canetinha"
        "|papel cartolina/cartolina|folha de EVA/EVA|papel crepom/crepom|papel sulfite colorido/papel color set",
        "12 cores|96 folhas|infantil|ensino fundamental|ponta redonda|caixa",
        head="material escolar",
        brands="Faber-Castell|Bic|Tilibra|Acrilex|Jandaia|Leo & Leo",
    ),
    _f(
        "Equipamentos médicos",
        "M",
        "II",
        "UN",
        4200.0,
        6,
        "esfigmomanômetro/aparelho de pressão|estetoscópio/estetoscopio|oxímetro de pulso/oximetro|cadeira de rodas/cadeira rodas"
        "|maca hospitalar/maca|desfibrilador/desfibrilador externo automático|autoclave/autoclave horizontal|balança antropométrica/balança"
        "|termômetro clínico/termômetro infravermelho|cama hospitalar/cama fawler|eletrocardiógrafo/aparelho de ECG"
        "|nebulizador/inalador nebulizador|foco cirúrgico/foco auxiliar",
        "adulto|infantil|digital|com bateria|21 litros|capacidade 150 kg|portátil",
        head="equipamento médico",
        brands="Philips|Omron|Welmy|Littmann|Bionet|Cristófoli|G-Tech",
    ),
    _f(
        "Eletrodomésticos",
        "M",
        "II",
        "UN",
        1400.0,
        8,
        "geladeira/refrigerador|ar-condicionado split/ar condicionado|bebedouro/bebedouro industrial|fogão industrial/fogao"
        "|micro-ondas/forno micro-ondas|ventilador/ventilador de parede|freezer/freezer horizontal"
        "|liquidificador industrial/liquidificador|purificador de água/purificador|máquina de lavar roupa/lavadora de roupas",
        "frost free|12.000 BTUs|18.000 BTUs|inox|220 V|6 bocas|30 litros|2 portas",
        head="eletrodoméstico",
        brands="Consul|Brastemp|Electrolux|LG|Samsung|Philco|Britânia|Springer",
    ),
    _f(
        "Água e gás",
        "M",
        "II",
        "UN",
        12.0,
        400,
        "água mineral/agua mineral sem gás|gás de cozinha/gás GLP|vasilhame/galão vasilhame|água mineral em copo/copo de água 200 ml",
        "20 litros|500 ml|P13|P45|botijão|recarga",
        head="água e gás",
        brands="Indaiá|Ultragaz|Liquigás|Supergasbras|Crystal",
    ),
    _f(
        "Serviços de saúde",
        "S",
        "II",
        "UN",
        75.0,
        300,
        "exames laboratoriais/exame laboratorial|consulta médica especializada/consulta especializada|exame de imagem/ultrassonografia"
        "|plantão médico/plantão 12 h|hemodiálise/sessão de hemodiálise|transporte de pacientes/remoção de pacientes"
        "|sessão de fisioterapia/fisioterapia|tomografia computadorizada/tomografia|ressonância magnética/ressonância"
        "|atendimento domiciliar/home care",
        "credenciamento|tabela SUS|por procedimento|urgência|eletivo|com laudo",
        head="serviço de saúde",
    ),
    _f(
        "Alimentação preparada",
        "S",
        "II",
        "UN",
        16.0,
        3000,
        "fornecimento de refeições/refeição|marmitex/marmita|lanche/kit lanche|coffee break/coffee-break"
        "|merenda escolar terceirizada/alimentação escolar|café da manhã/desjejum",
        "tipo self-service|500 g|individual|para eventos|por pessoa|almoço",
        head="alimentação",
    ),
    _f(
        "Peças automotivas",
        "M",
        "II",
        "UN",
        260.0,
        20,
        "pneu/pneu radial|bateria automotiva/bateria 60 Ah|pastilha de freio/pastilha freio|filtro de óleo/filtro oleo"
        "|amortecedor/amortecedor dianteiro|correia dentada/correia|lâmpada automotiva/lampada farol"
        "|filtro de ar/filtro de ar do motor|vela de ignição/vela|disco de freio/disco freio|kit embreagem/embreagem"
        "|fluido de freio/óleo de freio|radiador/radiador de água",
        "aro 15|aro 22,5|175/70|60 Ah|original|genuína|linha leve|linha pesada",
        head="peça automotiva",
        brands="Pirelli|Michelin|Moura|Bosch|Cofap|Tecfil|Fras-le|Goodyear",
    ),
    _f(
        "Publicidade",
        "S",
        "II",
        "UN",
        4500.0,
        5,
        "publicidade institucional/campanha publicitária|assessoria de imprensa/assessoria comunicação"
        "|produção de vídeo/produção audiovisual|gestão de redes sociais/mídias sociais|publicação em jornal/publicação de editais",
        "mensal|por campanha|30 segundos|conforme briefing",
        head="serviço de publicidade",
    ),
    _f(
        "Transporte",
        "S",
        "II",
        "KM",
        4.5,
        6000,
        "transporte escolar/transporte de alunos|frete/serviço de frete|mudança/serviço de mudança|transporte de cargas/transporte carga"
        "|fretamento de ônibus/fretamento|transporte de servidores/transporte de pessoal",
        "por km rodado|zona rural|ida e volta|veículo tipo van|ônibus 44 lugares",
        head="serviço de transporte",
    ),
    _f(
        "Ferramentas",
        "M",
        "II",
        "UN",
        65.0,
        20,
        "furadeira/furadeira de impacto|serra circular/serra|chave de fenda/jogo de chaves|alicate/alicate universal|martelo/martelo unha"
        "|trena/trena 5 m|escada/escada alumínio|carrinho de mão/carrinho de mao|roçadeira/roçadeira costal"
        "|motosserra/moto serra|lavadora de alta pressão/lavadora alta pressão|esmerilhadeira/lixadeira angular",
        "profissional|220 V|bivolt|8 pol|7 degraus|60 litros|a gasolina",
        head="ferramenta",
        brands="Tramontina|Bosch|Makita|Stihl|Vonder|Gedore|Black+Decker",
    ),
    _f(
        "Laboratório",
        "M",
        "II",
        "UN",
        70.0,
        50,
        "reagente/reagente para bioquímica|tubo de ensaio/tubo ensaio vidro|pipeta/pipeta automática|béquer/becker"
        "|kit diagnóstico/teste rápido|lâmina para microscopia/lamina|placa de Petri/placa petri|meio de cultura/ágar",
        "250 ml|100 testes|vidro|graduada|caixa 50|uso único",
        head="material de laboratório",
        brands="Labtest|Wama|Kasvi|Laborclin|Precision",
    ),
    _f(
        "Agropecuária",
        "M",
        "II",
        "KG",
        6.0,
        800,
        "semente de milho/semente milho híbrido|fertilizante NPK/adubo NPK|calcário/calcário dolomítico|ração animal/ração"
        "|herbicida/herbicida glifosato|vacina antirrábica animal/vacina animal|mudas de árvores/mudas nativas"
        "|adubo orgânico/composto orgânico|sal mineral/sal mineral bovino",
        "saco 20 kg|04-14-08|10-10-10|filtrado|tratada|a granel",
        head="insumo agropecuário",
        brands="Pioneer|Yara|Heringer|Purina|Tortuga",
    ),
    _f(
        "Esportes",
        "M",
        "II",
        "UN",
        75.0,
        40,
        "bola de futebol/bola futebol campo|rede de vôlei/rede voleibol|uniforme esportivo/jogo de camisas|troféu/troféus"
        "|medalha/medalhas|colchonete/colchonete ginástica|bola de vôlei/bola voleibol|bola de basquete/bola basquete"
        "|tatame/tatame EVA|rede de gol/rede para trave",
        "oficial|matrizada|banhada a ouro|60 cm|adulto|infantil",
        head="material esportivo",
        brands="Penalty|Mikasa|Topper|Umbro|Wilson|Kagiva",
    ),
    _f(
        "Cama, mesa e banho",
        "M",
        "II",
        "UN",
        35.0,
        100,
        "lençol/lençol solteiro|toalha de banho/toalha banho|cobertor/cobertor casal|travesseiro/travesseiro fibra|colchão/colchão solteiro"
        "|fronha/fronha de algodão|toalha de mesa/toalha mesa",
        "100% algodão|180 fios|solteiro|casal|D33|hospitalar",
        head="enxoval",
        brands="Santista|Buddemeyer|Teka|Ortobom",
    ),
    _f(
        "Copa e cozinha",
        "M",
        "II",
        "UN",
        12.0,
        300,
        "copo descartável/copo desc. 200 ml|guardanapo/guardanapo de papel|garrafa térmica/garrafa termica|panela/panela industrial"
        "|prato/prato de vidro|talheres/faqueiro|prato descartável/prato desc.|filtro de papel para café/filtro de café"
        "|jarra/jarra de vidro|caneca/caneca de porcelana",
        "200 ml|pacote 100 un|1 litro|alumínio|inox|descartável",
        head="utensílio de copa",
        brands="Tramontina|Copobras|Melitta|Nadir|Invicta|Termolar",
    ),
    _f(
        "Livros e assinaturas",
        "M",
        "II",
        "UN",
        85.0,
        40,
        "livro didático/livros didáticos|assinatura de periódico/assinatura revista|assinatura de jornal/jornal impresso|livro técnico/livros técnicos"
        "|livro paradidático/literatura infantil",
        "edição atualizada|anual|digital|impresso|ensino médio",
        head="livro",
    ),
    _f(
        "Sinalização viária",
        "S",
        "I",
        "M2",
        60.0,
        600,
        "sinalização horizontal/pintura de faixa|placa de sinalização/placas de trânsito|tachão refletivo/tacha refletiva|semáforo/conjunto semafórico"
        "|defensa metálica/guard rail|lombada/redutor de velocidade",
        "tinta acrílica|termoplástico|refletivo|com instalação|conforme CTB",
        head="sinalização",
    ),
    _f(
        "Material odontológico",
        "M",
        "II",
        "UN",
        18.0,
        100,
        "resina composta/resina fotopolimerizável|anestésico odontológico/lidocaína odontológica|broca odontológica/broca diamantada"
        "|ionômero de vidro/cimento de ionômero|sugador descartável/sugador|flúor gel/fluor gel|algodão rolete/rolete dental"
        "|hipoclorito odontológico/solução de hipoclorito 2,5%",
        "seringa 4 g|tubete|caixa 50|cor A2|kit|neutro",
        head="material odontológico",
        brands="3M|FGM|DFL|SS White|Maquira|Dentsply",
    ),
    _f(
        "Material hidráulico",
        "M",
        "II",
        "UN",
        25.0,
        40,
        "registro de gaveta/registro|torneira/torneira de parede|joelho PVC/joelho 90|caixa d'água/reservatório de água"
        "|sifão/sifão sanfonado|válvula de descarga/válvula descarga|vaso sanitário/bacia sanitária|mangueira/mangueira de jardim"
        "|adesivo para PVC/cola PVC|bomba d'água/motobomba",
        "1/2 pol|3/4 pol|25 mm|50 mm|1000 litros|branco|metal cromado|soldável",
        head="material hidráulico",
        brands="Tigre|Amanco|Docol|Deca|Fortlev|Krona|Schneider",
    ),
    _f(
        "Manutenção de equipamentos",
        "S",
        "II",
        "H",
        150.0,
        60,
        "manutenção de ar-condicionado/manutenção de condicionadores de ar|manutenção de elevadores/manutenção de elevador"
        "|manutenção de equipamentos médicos/manutenção de equipamentos hospitalares|manutenção de grupo gerador/manutenção de gerador"
        "|manutenção de impressoras/conserto de impressoras|calibração de equipamentos/aferição de equipamentos"
        "|manutenção de CFTV/manutenção de câmeras|manutenção de bombas/manutenção de conjunto motobomba",
        "preventiva e corretiva|com reposição de peças|mensal|sob demanda|hora técnica|conforme PMOC",
        head="manutenção de equipamentos",
    ),
    _f(
        "Higiene pessoal",
        "M",
        "II",
        "UN",
        8.0,
        500,
        "fralda descartável/fralda infantil|fralda geriátrica/fralda adulto|absorvente higiênico/absorvente"
        "|sabonete em barra/sabonete|creme dental/pasta de dente|escova dental/escova de dentes|xampu/shampoo"
        "|desodorante/desodorante roll-on",
        "tamanho P|tamanho M|tamanho G|90 g|pacote|infantil|adulto|neutro",
        head="produto de higiene",
        brands="Pampers|Huggies|Bigfral|Colgate|Sorriso|Protex|Always|Seda",
    ),
    _f(
        "Instrumentos musicais",
        "M",
        "II",
        "UN",
        900.0,
        4,
        "violão/violão acústico|teclado musical/teclado arranjador|bateria musical/bateria acústica|flauta doce/flauta"
        "|instrumentos de fanfarra/kit fanfarra|caixa de som amplificada/caixa acústica|microfone/microfone sem fio",
        "61 teclas|com capa|profissional|iniciante|bivolt|com cabo",
        head="instrumento musical",
        brands="Yamaha|Giannini|Casio|Shure|Tagima|Oneal",
    ),
    _f(
        "Material pedagógico",
        "M",
        "II",
        "UN",
        60.0,
        30,
        "jogo pedagógico/jogos educativos|brinquedo educativo/brinquedos pedagógicos|quebra-cabeça/quebra cabeça"
        "|fantoche/fantoches|tapete de EVA/tapete EVA|bloco de montar/blocos de encaixe|alfabeto móvel/alfabeto",
        "em madeira|educação infantil|MDF|conjunto|colorido|atóxico",
        head="material pedagógico",
    ),
    _f(
        "Máquinas pesadas",
        "M",
        "II",
        "UN",
        450000.0,
        1,
        "retroescavadeira/retro escavadeira|motoniveladora/patrol|pá carregadeira/carregadeira de rodas"
        "|trator agrícola/trator|escavadeira hidráulica/escavadeira|rolo compactador/rolo compactador vibratório",
        "zero hora|4x4|cabine fechada|com implementos|diesel|garantia 12 meses",
        dispensa=False,
        head="máquina",
        brands="Caterpillar|JCB|John Deere|New Holland|Case|Volvo",
    ),
    _f(
        "Conservação de estradas",
        "S",
        "I",
        "M2",
        12.0,
        5000,
        "patrolamento de estradas vicinais/patrolamento|cascalhamento/encascalhamento de estradas|operação tapa-buraco/tapa buraco"
        "|limpeza de bueiros/desobstrução de bueiros|roçagem de margens/roçada de acostamento",
        "zona rural|com máquinas|estradas vicinais|com fornecimento de material|por m2",
        head="conservação de estradas",
    ),
    _f(
        "Serviços funerários",
        "S",
        "II",
        "UN",
        1800.0,
        20,
        "urna funerária/fornecimento de urna funerária|translado funerário/traslado de corpo|sepultamento/serviço de sepultamento"
        "|ornamentação de velório/preparação de corpo",
        "benefício eventual|adulto|infantil|padrão|para famílias carentes",
        head="serviço funerário",
    ),
    _f(
        "Seguros",
        "S",
        "II",
        "UN",
        2500.0,
        10,
        "seguro de veículos/seguro automotivo|seguro predial/seguro patrimonial|seguro de vida em grupo/seguro de vida"
        "|seguro de equipamentos/seguro de máquinas",
        "cobertura total|anual|franquia reduzida|com assistência 24 h",
        head="seguro",
    ),
    _f(
        "Cestas e kits sociais",
        "M",
        "II",
        "UN",
        120.0,
        300,
        "cesta básica/cesta básica de alimentos|kit higiene/kit de higiene pessoal|kit enxoval/kit enxoval bebê"
        "|cesta natalina/cesta de natal",
        "benefício eventual|para famílias|conforme composição|padrão",
        head="cesta",
    ),
    _f(
        "Prevenção de incêndio",
        "M",
        "II",
        "UN",
        140.0,
        30,
        "extintor de incêndio/extintor|recarga de extintor/recarga extintor|mangueira de incêndio/mangueira hidrante"
        "|placa fotoluminescente/placa de emergência|luminária de emergência/bloco autônomo",
        "pó químico|água pressurizada|CO2|6 kg|15 metros|NBR",
        head="material de segurança",
        brands="Kidde|Resil|Bucka|Segurimax",
    ),
)

# Free-text units per base unit family: (text, multiplier in base units, weight, parseable).
UNITS: dict[str, tuple[tuple[str, float, float, bool], ...]] = {
    "UN": (
        ("UN", 1, 30, True),
        ("Unidade", 1, 15, True),
        ("UNIDADE", 1, 15, True),
        ("und", 1, 5, True),
        ("Un.", 1, 5, True),
        ("CX C/ 100 UN", 100, 3, True),
        ("PCT 10 UN", 10, 3, True),
        ("CX C/ 50 UN", 50, 2, True),
        ("caixa com 12 unidades", 12, 1, True),
        ("kit", 1, 1, False),
        ("conjunto", 1, 1, False),
        ("-", 1, 0.5, False),
    ),
    "KG": (
        ("KG", 1, 50, True),
        ("Kg", 1, 20, True),
        ("quilograma", 1, 10, True),
        ("PCT 5 KG", 5, 5, True),
        ("saco 25 kg", 25, 3, True),
        ("fardo", 1, 1, False),
    ),
    "L": (
        ("L", 1, 40, True),
        ("Litro", 1, 20, True),
        ("LT", 1, 10, True),
        ("frasco 500 ml", 0.5, 8, True),
        ("galão 5 L", 5, 5, True),
        ("frasco", 1, 2, False),
    ),
    "M2": (
        ("M2", 1, 50, True),
        ("m²", 1, 30, True),
        ("metro quadrado", 1, 10, True),
        ("verba", 1, 1, False),
    ),
    "M": (("M", 1, 50, True), ("metro", 1, 30, True), ("rolo 100 m", 100, 5, True)),
    "H": (
        ("Hora", 1, 40, True),
        ("H", 1, 30, True),
        ("hora técnica", 1, 15, True),
        ("HR", 1, 10, True),
        ("serviço", 1, 2, False),
    ),
    "MES": (
        ("Mês", 1, 50, True),
        ("MES", 1, 30, True),
        ("mensal", 1, 10, True),
        ("global", 1, 2, False),
    ),
    "KM": (("KM", 1, 50, True), ("km rodado", 1, 30, True), ("Quilômetro", 1, 10, True)),
}

EXTRAS = (
    "",
    "",
    "",
    "conforme termo de referência",
    "especificações no edital",
    "marca de referência ou similar",
    "de 1ª qualidade",
    "entrega parcelada",
    "c/ garantia",
    "p/ uso da secretaria",
)
ABBREV = (
    ("com ", "c/ "),
    ("para ", "p/ "),
    ("unidades", "und"),
    ("número", "nº"),
    ("serviço", "serv."),
    ("manutenção", "manut."),
    ("material", "mat."),
    ("descartável", "desc."),
)
# Specs any class may carry: with a bare head word they leave the class open.
GENERIC_SPECS = (
    "unidade",
    "pacote",
    "caixa",
    "diversos tamanhos",
    "padrão",
    "de primeira linha",
    "conforme especificação",
    "conforme amostra",
    "embalagem original",
    "branco",
    "tamanho único",
    "uso geral",
)
N_HEAD_SPECS = 6  # a bare head takes one of the first specs only
# Broad heads for descriptions that name no product, by kind and (goods) price tier: a junk
# description still tells consumo from permanente.
BROAD_HEADS = {
    "M0": ("material de consumo", "produto"),  # family price < 30
    "M1": ("material", "item"),  # < 1000
    "M2": ("material permanente", "equipamento"),
    "S": ("serviço", "prestação de serviços", "serviço especializado", "serviços técnicos"),
}


def broad_heads(family: Family) -> tuple[str, ...]:
    if family.kind == "S":
        return BROAD_HEADS["S"]
    return BROAD_HEADS["M0" if family.price < 30 else "M1" if family.price < 1000 else "M2"]


# Descriptions that carry no class signal ("vague"): most are not catalogued.
VAGUE = (
    "material de consumo conforme termo de referência",
    "aquisição de itens diversos conforme edital",
    "serviço conforme TR",
    "itens diversos conforme especificações do anexo I",
    "material permanente conforme termo de referência",
    "prestação de serviços conforme projeto básico",
    "lote único conforme edital",
    "item conforme especificação do termo de referência",
    "materiais diversos para atender a secretaria",
    "serviços diversos conforme ordem de serviço",
    "aquisição conforme processo administrativo",
    "conforme descrição do anexo",
    "outros materiais de consumo",
    "outros serviços de terceiros pessoa jurídica",
    "material conforme solicitação da secretaria requisitante",
    "diversos",
)


@dataclass
class ClassRow:
    family: int
    noun: str  # canonical
    synonyms: tuple[str, ...]


def classes_round_robin() -> list[ClassRow]:
    """Every family's nouns as classes, first nouns of all families first."""
    out: list[ClassRow] = []
    depth = max(len(f.nouns) for f in FAMILIES)
    for k in range(depth):
        for i, f in enumerate(FAMILIES):
            if k < len(f.nouns):
                syn = tuple(s.strip() for s in f.nouns[k].split("/"))
                out.append(ClassRow(i, syn[0], syn))
    return out


def _fold(s: str) -> str:
    return unicodedata.normalize("NFKD", s.lower()).encode("ascii", "ignore").decode("ascii")


def head_word(noun: str) -> str:
    """The first word of a noun ("papel" of "papel sulfite A4")."""
    return noun.split()[0]


def heads(rows: list[ClassRow]) -> list[str]:
    """Each class's bare head: the first word of its noun when another class of ``rows``
    shares it (accents and case aside), else the broad head of its kind (filled in later)."""
    count: dict[str, int] = {}
    for r in rows:
        w = _fold(head_word(r.noun))
        count[w] = count.get(w, 0) + 1
    return [head_word(r.noun) if count[_fold(head_word(r.noun))] > 1 else "" for r in rows]


def _case(s: str, mode: int) -> str:
    if mode == 1:
        return s.upper()
    if mode == 2:
        return s.capitalize()
    if mode == 3:
        return s.title()
    return s


def typo(rng: np.random.Generator, s: str) -> str:
    """One keyboard slip in a word of 5+ letters: a letter dropped, doubled or swapped."""
    words = s.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return s
    i = long[int(rng.integers(len(long)))]
    w = words[i]
    j = int(rng.integers(1, len(w) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        w = w[:j] + w[j + 1 :]
    elif kind == 1:
        w = w[:j] + w[j] + w[j:]
    else:
        w = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
    words[i] = w
    return " ".join(words)


# Shares of the description modes: bare head + generic spec, family head + spec.
P_HEAD, P_FAMILY = 0.17, 0.05
P_TYPO, P_BRAND = 0.1, 0.2


def description_variants(
    rng: np.random.Generator,
    synonyms: tuple[str, ...],
    spec: str,
    family: Family,
    head: str,
    k: int,
) -> list[str]:
    """``k`` ways a buyer writes one catalogue item: mostly a synonym with the item's spec
    (abbreviations, case, extra spec, brand, typos); some only a head word shared with other
    classes (``head``; "" for a broad one: "material", "serviço") with a generic spec, some the
    family's generic name with a spec."""
    specs = family.specs
    out = []
    for _ in range(k):
        u = rng.random()
        if u < P_HEAD:  # nothing else: the same words recur under many classes
            broad = broad_heads(family)
            h = head or broad[int(rng.integers(len(broad)))]
            s = f"{h}, {GENERIC_SPECS[int(rng.integers(N_HEAD_SPECS))]}"
            out.append(_case(s, int(rng.choice(4, p=[0.35, 0.4, 0.15, 0.1]))))
            continue
        if u < P_HEAD + P_FAMILY:
            parts = [family.head, specs[int(rng.integers(len(specs)))]]
        else:
            noun = synonyms[int(rng.integers(len(synonyms)))] if rng.random() < 0.6 else synonyms[0]
            if rng.random() < P_TYPO:
                noun = typo(rng, noun)
            parts = [noun, spec]
            if rng.random() < 0.35:
                parts.append(specs[int(rng.integers(len(specs)))])
        if family.brands and rng.random() < P_BRAND:
            b = family.brands[int(rng.integers(len(family.brands)))]
            parts.append(("marca " if rng.random() < 0.5 else "ref. ") + b)
        extra = EXTRAS[int(rng.integers(len(EXTRAS)))]
        if extra:
            parts.append(extra)
        sep = ", " if rng.random() < 0.4 else " "
        s = sep.join(p for p in parts if p)
        if rng.random() < 0.4:
            for a, b in ABBREV:
                s = s.replace(a, b)
        if rng.random() < 0.15:
            s = (
                s.replace("ç", "c")
                .replace("ã", "a")
                .replace("é", "e")
                .replace("á", "a")
                .replace("ó", "o")
            )
        out.append(_case(s, int(rng.choice(4, p=[0.35, 0.4, 0.15, 0.1]))))
    return out


def vague_variants(rng: np.random.Generator, k: int) -> list[str]:
    """``k`` vague descriptions (no class signal), in the usual cases."""
    return [
        _case(VAGUE[int(rng.integers(len(VAGUE)))], int(rng.choice(4, p=[0.3, 0.45, 0.15, 0.1])))
        for _ in range(k)
    ]


def objeto_variants(family: Family, noun: str) -> list[str]:
    """How a purchase of a class is described (objetoCompra)."""
    fam = family.name.lower()
    if family.name == "Reforma de edificações":
        base = noun[0].upper() + noun[1:]
        return [
            f"{base} conforme projeto básico e planilha orçamentária",
            f"{base}, com fornecimento de material e mão de obra",
            f"{base} do município",
        ]
    if family.kind == "S":
        return [
            f"Contratação de empresa para prestação de serviços de {noun}",
            f"Contratação de serviços de {noun} ({fam})",
            f"Prestação de serviços de {noun} para atender às necessidades do órgão",
            f"CONTRATAÇÃO DE EMPRESA ESPECIALIZADA EM {noun.upper()}",
        ]
    return [
        f"Aquisição de {noun} ({fam})",
        f"Aquisição de {fam.lower()}: {noun} e correlatos",
        f"Registro de preços para eventual aquisição de {fam}",
        f"AQUISIÇÃO DE {noun.upper()} PARA ATENDER ÀS NECESSIDADES DA SECRETARIA",
    ]
